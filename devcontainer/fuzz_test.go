package devcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any bytes give a Config or an *Error naming the file; never a
// panic.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/devcontainer/*/*/.devcontainer*.json")
	more, _ := filepath.Glob("../testdata/devcontainer/*/*/.devcontainer/devcontainer.json")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"image":"x","features":{"./a":{"v":"${localEnv:X:y}"}},"extensions":["a"],"settings":{"b":1}}`))
	f.Add([]byte(`{"build":{"dockerfile":"D","options":["--label","a=b","--network=host"],"args":{"A":"${localEnv}"}}}`))
	f.Add([]byte(`{"dockerComposeFile":"x.yml","service":"s"}`))
	f.Add([]byte("[1,2]"))
	vars := &Variables{LocalEnv: func(k string) (string, bool) { return "v", k == "X" }, LocalWorkspaceFolder: "/ws/p"}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("devcontainer.json", data, vars)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "devcontainer.json" || !strings.HasPrefix(err.Error(), "devcontainer.json") {
				t.Fatalf("error does not name the file: %T %v", err, err)
			}
			return
		}
		if c.Raw == nil || c.Substituted == nil {
			t.Fatal("nil config")
		}
		_ = c.MetadataEntry()
		_ = c.SubstitutedMetadataEntry()
	})
}
