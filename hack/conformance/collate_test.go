package conformance

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os/exec"
	"testing"

	"github.com/devcache/devcache/devcontainer/features"
)

// TestLocaleCompareMatchesNode compares devcache's collation with Node's
// String.prototype.localeCompare (what the reference sorts with) on the
// characters feature references and options are made of.
func TestLocaleCompareMatchesNode(t *testing.T) {
	ReferenceCLI(t) // node must be there (fails under CI=true otherwise)
	alphabet := []rune("aAbBzZ019_-.:/@~ éÉäßx")
	rng := rand.New(rand.NewSource(1))
	words := []string{"", "a", "A", "./a", "ghcr.io/x", "https://x", "1.10", "1.2", "latest", "e\u0301", "\u00e9"}
	for len(words) < 300 {
		n := 1 + rng.Intn(6)
		w := make([]rune, n)
		for i := range w {
			w[i] = alphabet[rng.Intn(len(alphabet))]
		}
		words = append(words, string(w))
	}
	in, _ := json.Marshal(words)
	script := `const w = JSON.parse(require('fs').readFileSync(0, 'utf8')); const r = [];
for (let i = 0; i + 1 < w.length; i++) r.push(Math.sign(w[i].localeCompare(w[i+1])), Math.sign(w[i+1].localeCompare(w[0])));
process.stdout.write(JSON.stringify(r));`
	cmd := exec.Command("node", "-e", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	k := 0
	for i := 0; i+1 < len(words); i++ {
		for _, pair := range [][2]string{{words[i], words[i+1]}, {words[i+1], words[0]}} {
			if got := features.LocaleCompare(pair[0], pair[1]); got != want[k] {
				t.Errorf("LocaleCompare(%q, %q) = %d, node %d", pair[0], pair[1], got, want[k])
			}
			k++
		}
	}
}
