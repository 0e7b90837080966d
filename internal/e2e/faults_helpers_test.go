package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// exitCode runs the plugin binary with args in ws against buildkitAddr and
// returns its exit code, stdout and stderr.
func exitCode(t *testing.T, ws, buildkitAddr string, args ...string) (int, string, string) {
	t.Helper()
	out, errOut, err := runErr(ws, []string{"DOCKER_CONFIG=" + t.TempDir(), "BUILDKIT_HOST=" + buildkitAddr}, pluginBinary(t), args...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out, errOut
	case errors.As(err, &ee):
		return ee.ExitCode(), out, errOut
	}
	t.Fatalf("docker-devcache %s: %v", strings.Join(args, " "), err)
	return 0, "", ""
}

// requireComplete reads ref (a key tag) and checks, as `crane validate`
// does, that its manifests, configs and every layer blob are in the
// registry and match their digests.
func requireComplete(t *testing.T, ref string) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err == nil {
			err = validate.Index(idx)
		}
		if err != nil {
			t.Fatalf("%s is incomplete: %v", ref, err)
		}
		return
	}
	img, err := desc.Image()
	if err == nil {
		err = validate.Image(img)
	}
	if err != nil {
		t.Fatalf("%s is incomplete: %v", ref, err)
	}
}

// probeState probes ws's key in repo: a miss is fine, a hit must be a
// complete image, anything else fails the test. It returns the exit code.
func probeState(t *testing.T, ws, buildkitAddr, repo string) int {
	t.Helper()
	code, out, errOut := exitCode(t, ws, buildkitAddr, "probe", "--cache-repo", repo, "--format", "json")
	switch code {
	case 0:
		var res struct{ Ref string }
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("probe printed %q: %v", out, err)
		}
		requireComplete(t, res.Ref)
	case 1:
	default:
		t.Fatalf("probe exit %d:\n%s\n%s", code, out, lastLines(errOut, 20))
	}
	return code
}

// killedPush is a push run in the background whose stderr is watched.
type killedPush struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

// startPush starts the plugin binary's push in ws, plain progress on
// stderr.
func startPush(t *testing.T, ws, buildkitAddr string, args ...string) *killedPush {
	t.Helper()
	k := &killedPush{done: make(chan error, 1)}
	k.cmd = exec.Command(pluginBinary(t), append([]string{"push", "--progress", "plain"}, args...)...)
	k.cmd.Dir = ws
	k.cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir(), "BUILDKIT_HOST="+buildkitAddr)
	pr, err := k.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			k.mu.Lock()
			k.stderr.WriteString(sc.Text() + "\n")
			k.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
		k.done <- k.cmd.Wait()
	}()
	t.Cleanup(func() { _ = k.cmd.Process.Kill() })
	return k
}

func (k *killedPush) output() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.stderr.String()
}

// killWhen waits (up to 3 minutes) until cond holds, then kills the push
// with SIGKILL and waits for it to end. It fails the test when the push
// ended by itself first.
func (k *killedPush) killWhen(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		select {
		case err := <-k.done:
			t.Fatalf("the push ended (%v) before %s:\n%s", err, what, lastLines(k.output(), 30))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 3 minutes:\n%s", what, lastLines(k.output(), 30))
		}
	}
	if err := k.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-k.done
}
