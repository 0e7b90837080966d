package build

import (
	"errors"
	"testing"
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
