package resolver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/internal/policy"
)

// TestPolicyDockerfileReads: the policy sees every image BuildKit's reading
// of the Dockerfile names — behind a quoted "<<" the former scanners
// stumbled on, through RUN --mount=from (which they did not read), in a
// stage the target does not need — and names its file and line.
func TestPolicyDockerfileReads(t *testing.T) {
	p, err := policy.Parse([]string{"registry.test/approved/*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, dockerfile, refused string }{
		{"run mount from", "FROM registry.test/approved/base:1\nRUN echo \"a <<b\"\nRUN --mount=type=bind,from=registry.test/evil/tools:1,target=/t ls\n", ":3: RUN --mount from"},
		{"stage read by COPY --from", "FROM registry.test/evil/x:1 AS t\nFROM registry.test/approved/base:1\nCOPY --from=t /x /x\n", ":1: FROM"},
		{"stage the target does not need", "FROM registry.test/approved/base:1 AS dev\nFROM registry.test/evil/y:1 AS other\n", ":2: FROM"},
		{"global ARG", "ARG B=registry.test/evil/z:1\nFROM $B\n", ":2: FROM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			df := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(df, []byte(c.dockerfile), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := &devcontainer.Config{Kind: devcontainer.KindDockerfile, Build: &devcontainer.Build{Path: filepath.ToSlash(df), Target: "dev"}}
			if !strings.Contains(c.dockerfile, " AS dev") {
				cfg.Build.Target = ""
			}
			err := CheckDockerfileSources(p, "", cfg)
			if err == nil || !strings.Contains(err.Error(), "registry.test/evil/") || !strings.Contains(err.Error(), c.refused) {
				t.Errorf("err = %v, want the evil image refused at %q", err, c.refused)
			}
		})
	}
	ok := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(ok, []byte("FROM registry.test/approved/base:1 AS b\nFROM scratch\nCOPY --from=b / /\nRUN --mount=type=cache,target=/c true\n"), 0o644)
	if err := CheckDockerfileSources(p, "", &devcontainer.Config{Kind: devcontainer.KindDockerfile, Build: &devcontainer.Build{Path: filepath.ToSlash(ok)}}); err != nil {
		t.Errorf("allowed Dockerfile: %v", err)
	}
}
