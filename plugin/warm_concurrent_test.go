package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// warmChildArgs, when set in the environment (JSON), makes
// TestWarmConcurrent run `docker devcache` with those arguments and exit:
// the test's child processes.
const warmChildArgs = "DEVCACHE_TEST_WARM_CHILD_ARGS"

// TestWarmConcurrent: several `warm` processes started at once into one
// new directory, each with different images, leave one OCI layout that
// holds every entry of every run, each complete.
func TestWarmConcurrent(t *testing.T) {
	if a := os.Getenv(warmChildArgs); a != "" {
		warmChild(t, a)
		return
	}
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	const procs, each = 4, 6
	dir := filepath.Join(t.TempDir(), "warm")
	want := map[string]string{}
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		args := []string{"warm", "--dir", dir, "--no-config", "--platform", "linux/amd64"}
		for j := range each {
			ref := fmt.Sprintf("%s/p%d/img%d:1", reg.Host, i, j)
			want[ref] = reg.PushImage(t, fmt.Sprintf("p%d/img%d:1", i, j), resolvetest.ImageConfig{User: fmt.Sprintf("u%d-%d", i, j)})
			args = append(args, "--image", ref)
		}
		b, _ := json.Marshal(args)
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestWarmConcurrent$")
		cmds[i].Env = append(os.Environ(), warmChildArgs+"="+string(b))
	}
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := c.CombinedOutput(); err != nil {
				t.Errorf("warm process %d: %v\n%s", i, err, out)
			}
		}()
	}
	wg.Wait()

	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range im.Manifests {
		got[d.Annotations[ocispec.AnnotationRefName]] = d.Digest.String()
		if err := blobsIntact(dir, d.Digest); err != nil {
			t.Errorf("%s is incomplete: %v", d.Annotations[ocispec.AnnotationRefName], err)
		}
	}
	if len(im.Manifests) != len(want) {
		t.Errorf("index.json has %d entries, want %d: %v", len(im.Manifests), len(want), got)
	}
	for ref, d := range want {
		if got[ref] != d {
			t.Errorf("%s: index.json has %q, want %s", ref, got[ref], d)
		}
	}
}

// warmChild runs `docker devcache` with the JSON-encoded arguments and
// exits with its code.
func warmChild(t *testing.T, argsJSON string) {
	var args []string
	if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
		t.Fatal(err)
	}
	r := runDevcache(t, args...)
	if r.code != 0 {
		fmt.Fprintln(os.Stderr, r)
		os.Exit(r.code)
	}
}

// blobsIntact checks that the manifest m of the layout in dir, its config
// and its layers are present with their digests.
func blobsIntact(dir string, m v1.Hash) error {
	read := func(h v1.Hash) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", h.Algorithm, h.Hex))
		if err != nil {
			return nil, err
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != h.Hex {
			return nil, fmt.Errorf("blob %s holds other content", h)
		}
		return b, nil
	}
	raw, err := read(m)
	if err != nil {
		return err
	}
	var man v1.Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		return err
	}
	for _, d := range append([]v1.Descriptor{man.Config}, man.Layers...) {
		if _, err := read(d.Digest); err != nil {
			return err
		}
	}
	return nil
}
