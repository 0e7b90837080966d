package build

import (
	"errors"
	"testing"

	"github.com/moby/buildkit/client"
)

func TestIsUploadRace(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want bool
	}{
		{"failed to solve: failed to push 127.0.0.1:5000/e2e/x: errors:\nunknown: provided digest did not match uploaded content\nunknown: blob unknown to registry - sha256:93", true},
		{"failed to push r/x: unknown: blob unknown to registry", true},
		{"failed to push r/x: unauthorized: authentication required", false},
		{"process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3", false},
	} {
		if got := IsUploadRace(errors.New(c.msg)); got != c.want {
			t.Errorf("IsUploadRace(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
	if IsUploadRace(nil) {
		t.Error("nil is no race")
	}
}

func TestIsTransientPush(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want bool
	}{
		{"failed to solve: failed to push 127.0.0.1:5000/e2e/x: unexpected status from PUT request to http://127.0.0.1:5000/v2/e2e/x/blobs/uploads/1: 429 Too Many Requests", true},
		{"failed to push r/x: failed to do request: Put \"http://r/v2/x/blobs/uploads/1\": read tcp: connection reset by peer", true},
		{"failed to push r/x: unexpected status: 503 Service Unavailable", true},
		{"failed to push r/x: unexpected status: 500 Internal Server Error", false},
		{"failed to push r/x: unauthorized: authentication required", false},
		{"failed to read dockerfile: unexpected EOF", false},
	} {
		if got := IsTransientPush(errors.New(c.msg)); got != c.want {
			t.Errorf("IsTransientPush(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
}

// TestResponseWatch: a failed cache export vertex is noted once; other
// failed vertices are not.
func TestResponseWatch(t *testing.T) {
	var r Response
	st := &client.SolveStatus{Vertexes: []*client.Vertex{
		{Name: "exporting cache to registry", Error: "unexpected status: 500"},
		{Name: "[2/3] RUN false", Error: "exit code: 1"},
		{Name: "exporting to image"},
	}}
	r.watch(st)
	r.watch(st)
	if len(r.CacheExportErrors) != 1 || r.CacheExportErrors[0] != "exporting cache to registry: unexpected status: 500" {
		t.Errorf("CacheExportErrors = %q", r.CacheExportErrors)
	}
}
