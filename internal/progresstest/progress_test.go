package progresstest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// line is one rawjson status line with one vertex update.
func line(t *testing.T, dgst, name string, started, completed bool, cached bool) string {
	t.Helper()
	now := time.Unix(100, 0)
	v := &client.Vertex{Digest: digest.Digest(dgst), Name: name, Cached: cached}
	if started {
		v.Started = &now
	}
	if completed {
		later := now.Add(time.Second)
		v.Completed = &later
	}
	b, err := json.Marshal(client.SolveStatus{Vertexes: []*client.Vertex{v}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRead: a step that ran in a first solve and was cached in a second
// (push's layer cache export) ran; a remote cache hit that reported
// "started" while its key was computed did not; a cached step did not.
func TestRead(t *testing.T) {
	const ran, remote, cached = "sha256:aa", "sha256:bb", "sha256:cc"
	out := strings.Join([]string{
		// first solve: listed, then run / loaded / cached
		line(t, ran, "RUN ran", false, false, false),
		line(t, remote, "RUN remote", false, false, false),
		line(t, cached, "RUN cached", false, false, false),
		line(t, remote, "RUN remote", true, false, true),
		line(t, remote, "RUN remote", true, true, false),
		line(t, ran, "RUN ran", true, false, false),
		line(t, ran, "RUN ran", true, true, false),
		line(t, cached, "RUN cached", true, true, true),
		"not json",
		// second solve: everything cached
		line(t, ran, "RUN ran", false, false, false),
		line(t, remote, "RUN remote", false, false, false),
		line(t, ran, "RUN ran", true, true, true),
		line(t, remote, "RUN remote", true, true, true),
	}, "\n")
	steps := Read(out)
	for name, want := range map[string]bool{"RUN ran": true, "RUN remote": false, "RUN cached": false} {
		if s := steps[name]; s == nil || s.Ran != want {
			t.Errorf("%s: %+v, want ran=%v", name, s, want)
		}
	}
	if got := steps["RUN ran"].Took(); got != time.Second {
		t.Errorf("took %v", got)
	}
}
