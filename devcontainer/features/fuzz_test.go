package features

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/jsonc"
)

// FuzzMetadata: any devcontainer-feature.json gives typed metadata (and
// env lines, a wrapper and a label entry) or an error naming the file;
// never a panic.
func FuzzMetadata(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/devcontainer/*/*/.devcontainer/*/devcontainer-feature.json")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, `{"greeting":"x"}`)
		}
	}
	f.Add([]byte(`{"id":"a","options":{"version":{"type":"string","default":"1"}},"buildArg":"B","legacyIds":["x"],"currentId":"y","deprecated":true}`), `"18"`)
	f.Add([]byte(`{"options":{"1x":{"default":3.10}},"extensions":["e"],"settings":{"s":1}}`), `true`)
	const file = "x/devcontainer-feature.json"
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		m, err := ParseMetadata(file, data)
		if err != nil {
			var e *devcontainer.Error
			if !errors.As(err, &e) || e.File != file || !strings.HasPrefix(err.Error(), file) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		v, err := jsonc.Parse([]byte(value))
		if err != nil {
			v = value
		}
		lines := EnvLines(m, v)
		_ = WrapperScript(m, m.Name, "Unknown", lines)
		if _, err := Effective(jsonc.NewObject(), m.Raw, m.Raw); err != nil && !strings.Contains(err.Error(), ":") {
			t.Fatalf("effective error without field: %v", err)
		}
		_ = m.Aliases()
	})
}

// FuzzRef: any reference string parses or gives an error; never a panic;
// a parsed local reference stays inside .devcontainer/.
func FuzzRef(f *testing.F) {
	for _, s := range []string{
		"ghcr.io/devcontainers/features/node:1", "ghcr.io/x/y/z@sha256:abc", "localhost:5000/a/b",
		"./a", "../b", "/abs", "node", "https://x.io/devcontainer-feature-a.tgz", "GHCR.IO/A/B:LATEST",
		"ghcr.io/devcontainers-contrib/features/x", "a/b/c", ".x/y/z", "ghcr.io//z", "ghcr.io/x/y:",
	} {
		f.Add(s)
	}
	rc := RefContext{ConfigPath: "/ws/.devcontainer/devcontainer.json", Workspace: "/ws"}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s, rc)
		if _, err2 := ParseOCIRef(s); err2 != nil && err2.Error() == "" {
			t.Fatal("empty error")
		}
		_ = WithoutVersion(s)
		_ = BackwardCompatibleID(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if r.Kind == KindLocal && !strings.HasPrefix(r.LocalPath, "/ws/.devcontainer") {
			t.Fatalf("local feature %q resolved outside .devcontainer: %s", s, r.LocalPath)
		}
		if r.Kind == KindOCI && (r.OCI.Path == "" || r.OCI.Registry == "") {
			t.Fatalf("incomplete OCI ref %+v", r.OCI)
		}
	})
}
