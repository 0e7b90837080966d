package build

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mobyclient "github.com/moby/moby/client"
)

// TestDockerLoadUnreachableEngine: with no engine to load into, the build's
// write fails, and Abort reports why (the engine), not the closed pipe the
// exporter saw.
func TestDockerLoadUnreachableEngine(t *testing.T) {
	sock := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	api, err := mobyclient.New(mobyclient.WithHost(sock))
	if err != nil {
		t.Fatal(err)
	}
	l := StartDockerLoad(context.Background(), api)
	w, err := l.Output(nil)
	if err != nil {
		t.Fatal(err)
	}
	var writeErr error
	for deadline := time.Now().Add(10 * time.Second); writeErr == nil && time.Now().Before(deadline); {
		_, writeErr = w.Write(make([]byte, 32<<10))
	}
	if writeErr == nil {
		t.Fatal("writing the tarball kept succeeding with no engine")
	}
	err = l.Abort(errors.New("failed to copy to tar: " + writeErr.Error()))
	if err == nil || !strings.Contains(err.Error(), "--load: loading the image into the Docker engine") || !strings.Contains(err.Error(), "docker.sock") {
		t.Errorf("Abort = %v, want the engine's error", err)
	}
}

// TestDockerLoadAbortedByBuild: a build that fails while the engine is
// loading ends the load, and Abort leaves the build's error to report.
func TestDockerLoadAbortedByBuild(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("{}\n"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	api, err := mobyclient.New(mobyclient.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	l := StartDockerLoad(context.Background(), api)
	w, err := l.Output(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("part of a tarball")); err != nil {
		t.Fatal(err)
	}
	if err := l.Abort(errors.New("RUN failed")); err != nil {
		t.Errorf("Abort = %v, want nil (the build's error is the one to report)", err)
	}
}
