package plan_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
)

// TestKeyFollowsDockerfileReads is issue 9's stale hit: a COPY after a line
// the former scanner took for a heredoc start (a quoted "<<", a here-string)
// was not in the key, so editing its file still probed as a hit. Every case
// also checks that a file the build does not read stays out of the key
// (the former scanner hashed the whole context for any "$").
func TestKeyFollowsDockerfileReads(t *testing.T) {
	for _, c := range []struct{ name, dockerfile string }{
		{"quoted <<", "FROM devcache.test/base:1\nRUN echo \"a <<b\"\nCOPY data.txt /data.txt\n"},
		{"here-string", "FROM devcache.test/base:1\nRUN tr a-z A-Z <<<word > /w\nCOPY data.txt /data.txt\n"},
		{"after a real heredoc", "FROM devcache.test/base:1\nRUN <<EOF\necho \"<<b\"\nEOF\nCOPY data.txt /data.txt\n"},
		{"ARG-expanded path", "ARG DIR=.\nFROM devcache.test/base:1\nARG DIR\nARG NAME=data\nCOPY ${DIR}/${NAME}.txt /data.txt\n"},
		{"bind mount source", "FROM devcache.test/base:1\nRUN echo \"a <<b\"\nRUN --mount=type=bind,source=data.txt,target=/d cat /d\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := dataWorkspace(t, c.dockerfile)
			key := keyOf(t, ws)
			before := key()
			write(t, filepath.Join(ws, "data.txt"), "two\n")
			edited := key()
			if edited == before {
				t.Errorf("editing data.txt did not change the key (a stale hit)")
			}
			write(t, filepath.Join(ws, "other.txt"), "still not read\n")
			if key() != edited {
				t.Errorf("editing other.txt, which the build does not read, changed the key")
			}
		})
	}
}

// A Dockerfile BuildKit would refuse fails the Plan with its file and line,
// rather than being keyed on a guess.
func TestDockerfileErrorNamesLine(t *testing.T) {
	ws := t.TempDir()
	write(t, cfgPath(ws), `{"build": {"dockerfile": "Dockerfile"}}`)
	write(t, dfPath(ws), "FROM devcache.test/base:1\n\nCOPY --from=7 /a /a\n")
	_, err := planFor(t, ws, newResolver(t, resolve.Options{}), plan.Options{})
	if err == nil || !containsAll(err.Error(), "Dockerfile", "line 3", "invalid stage index 7") {
		t.Errorf("err = %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestKeyFollowsDockerfileIgnore: BuildKit applies <Dockerfile>.dockerignore
// instead of the context's .dockerignore when it exists, so a file the
// context's .dockerignore excludes is still sent and must be in the key
// (keying after .dockerignore alone was a stale hit), and a file only the
// Dockerfile's ignore file excludes is not read.
func TestKeyFollowsDockerfileIgnore(t *testing.T) {
	ws := t.TempDir()
	write(t, cfgPath(ws), `{"build": {"dockerfile": "Dockerfile", "context": ".."}}`)
	write(t, dfPath(ws), "FROM devcache.test/base:1\nCOPY . /ctx/\n")
	write(t, filepath.Join(ws, ".dockerignore"), "data.txt\n")
	write(t, dfPath(ws)+".dockerignore", "other.txt\n")
	write(t, filepath.Join(ws, "data.txt"), "one\n")
	write(t, filepath.Join(ws, "other.txt"), "not read\n")
	key := keyOf(t, ws)
	before := key()
	write(t, filepath.Join(ws, "data.txt"), "two\n")
	edited := key()
	if edited == before {
		t.Error("editing data.txt, which Dockerfile.dockerignore lets through, did not change the key (a stale hit)")
	}
	write(t, filepath.Join(ws, "other.txt"), "still not read\n")
	if key() != edited {
		t.Error("editing other.txt, which Dockerfile.dockerignore excludes, changed the key")
	}
}

// TestKeyFollowsBaseOnBuild: BuildKit runs the base image's ONBUILD
// triggers first ("COPY . /app/" here), so a file the Dockerfile does not
// name is still read and must be in the key (it was not: a stale hit).
// A stage the target does not need does not widen the key.
func TestKeyFollowsBaseOnBuild(t *testing.T) {
	for _, c := range []struct {
		name, dockerfile string
		read             bool
	}{
		{"base with ONBUILD", "FROM devcache.test/onbuild:1\nCOPY data.txt /data.txt\n", true},
		{"unneeded stage with ONBUILD", "FROM devcache.test/onbuild:1 AS unused\nFROM devcache.test/base:1\nCOPY data.txt /data.txt\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := dataWorkspace(t, c.dockerfile)
			key := keyOf(t, ws)
			before := key()
			write(t, filepath.Join(ws, "other.txt"), "two\n")
			if changed := key() != before; changed != c.read {
				t.Errorf("editing other.txt changed the key: %v, want %v", changed, c.read)
			}
		})
	}
}

// dataWorkspace is a Dockerfile config (context: the workspace) with
// dockerfile and two context files, data.txt and other.txt.
func dataWorkspace(t *testing.T, dockerfile string) string {
	ws := t.TempDir()
	write(t, cfgPath(ws), `{"build": {"dockerfile": "Dockerfile", "context": ".."}}`)
	write(t, dfPath(ws), dockerfile)
	write(t, filepath.Join(ws, "data.txt"), "one\n")
	write(t, filepath.Join(ws, "other.txt"), "not read\n")
	return ws
}

// keyOf returns a function computing the key of the workspace ws's
// config as it is on disk at each call.
func keyOf(t *testing.T, ws string) func() string {
	r := newResolver(t, resolve.Options{})
	return func() string {
		t.Helper()
		res, err := planFor(t, ws, r, plan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Plan.Key()
	}
}
