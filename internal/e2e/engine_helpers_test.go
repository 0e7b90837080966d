package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/stack"
)

// dockerEngine starts Debian's dockerd (package docker.io) in a temporary
// directory, without networking set-up, trusting the stack's registry over
// plain HTTP; it is stopped when the test ends. It returns DOCKER_HOST.
func dockerEngine(t *testing.T, s *stack.Stack) string {
	t.Helper()
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		t.Fatalf("dockerd (Debian package docker.io) is needed: %v", err)
	}
	dir, err := os.MkdirTemp("", "devcache-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{
		"insecure-registries": []string{s.Registry},
		"iptables":            false,
		"ip-forward":          false,
		"ip-masq":             false,
		"bridge":              "none",
		"features":            map[string]bool{"buildkit": true},
	})
	cfgFile := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file", cfgFile, "--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"), "--pidfile", filepath.Join(dir, "docker.pid"),
		"--host", "unix://"+sock)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("dockerd state and log kept in %s", dir)
		}
	})
	host := "unix://" + sock
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, _, err := runErr("", []string{"DOCKER_HOST=" + host}, "docker", "version"); err == nil {
			return host
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("dockerd did not answer within 60 s:\n%s", lastLines(string(b), 30))
		}
		time.Sleep(250 * time.Millisecond)
	}
}
