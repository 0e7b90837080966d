package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Image is what the fake docker reports for `inspect --type image`.
type Image struct {
	User   string            `json:"User,omitempty"`
	Env    []string          `json:"Env,omitempty"`
	Labels map[string]string `json:"Labels,omitempty"`
}

// Outcome is the reference's JSON result line.
type Outcome struct {
	Outcome     string `json:"outcome"`
	Message     string `json:"message"`
	Description string `json:"description"`
}

// RunBuild runs `devcontainer build` of the reference on ws with the fake
// docker and returns its outcome and the captured build (nil on error).
func RunBuild(t testing.TB, cli, ws string, images map[string]Image, extraEnv []string, extraArgs ...string) (*Outcome, *Capture, string) {
	t.Helper()
	dir := t.TempDir()
	imgs, _ := json.Marshal(images)
	if err := os.WriteFile(filepath.Join(dir, "images.json"), imgs, 0o644); err != nil {
		t.Fatal(err)
	}
	_, self, _, _ := runtime.Caller(0)
	fake, err := os.ReadFile(filepath.Join(filepath.Dir(self), "fake-docker.js"))
	if err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(dir, "docker")
	if err := os.WriteFile(docker, fake, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{cli, "build", "--workspace-folder", ws, "--docker-path", docker, "--log-level", "info"}, extraArgs...)
	cmd := exec.Command("node", args...)
	cmd.Env = append(os.Environ(), "FAKE_DOCKER_DIR="+dir)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var out Outcome
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &out); err != nil {
		t.Fatalf("reference build: %v (%v)\nstdout: %s\nstderr: %s", err, runErr, stdout.String(), stderr.String())
	}
	if out.Outcome != "success" {
		return &out, nil, stderr.String()
	}
	c, err := ReadCapture(filepath.Join(dir, "capture"))
	if err != nil {
		t.Fatalf("reading the capture: %v\nstderr: %s", err, stderr.String())
	}
	return &out, c, stderr.String()
}

// Publish publishes the features of a collection folder (src/<id>/...) to
// registry/namespace with the reference's `devcontainer features publish`.
func Publish(t testing.TB, cli, registry, namespace, src string) map[string]string {
	t.Helper()
	cmd := exec.Command("node", cli, "features", "publish", "--registry", registry, "--namespace", namespace, "--log-level", "info", src)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("features publish: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var res map[string]struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &res); err != nil {
		t.Fatalf("features publish output: %v: %s", err, stdout.String())
	}
	out := map[string]string{}
	for id, r := range res {
		out[id] = r.Digest
	}
	return out
}

// copyDir copies a fixture to dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(fmt.Errorf("copying %s: %w", src, err))
	}
}
