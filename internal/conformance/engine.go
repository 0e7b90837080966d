package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// engine is a private Docker engine (Debian's dockerd, which starts its
// own containerd) with its data root, exec root and socket in dir. The
// reference CLI needs one: it runs `docker pull` and `docker inspect` on
// the base image before building with buildx, and builds Compose configs
// on it with docker-compose.
type engine struct {
	dir    string
	host   string // DOCKER_HOST
	bridge string // the engine's own bridge interface
	cmd    *exec.Cmd
	done   chan struct{}
	log    *os.File
}

var engineInstall sync.Once

// ensureDockerd installs Debian's docker.io when dockerd is missing and
// docker-compose (1.29, what the reference builds Compose configs with
// here) when it is missing (as root only).
func ensureDockerd() error {
	var err error
	engineInstall.Do(func() {
		var need []string
		if _, e := lookDockerd(); e != nil {
			need = append(need, "docker.io")
		}
		if _, e := exec.LookPath("docker-compose"); e != nil {
			need = append(need, "docker-compose")
		}
		if len(need) == 0 {
			return
		}
		if os.Geteuid() != 0 {
			err = fmt.Errorf("%s not installed and this is not root (apt-get install -y %s)", strings.Join(need, ", "), strings.Join(need, " "))
			return
		}
		for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq", "--no-install-recommends"}, need...)} {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, e := cmd.CombinedOutput(); e != nil {
				err = fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), e, out)
				return
			}
		}
	})
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		return errors.New("docker-compose not found (Debian package docker-compose)")
	}
	_, err = lookDockerd()
	return err
}

func lookDockerd() (string, error) {
	if p, err := exec.LookPath("dockerd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/dockerd", "/usr/bin/dockerd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("dockerd not found (Debian package docker.io)")
}

// startEngine starts dockerd with registries (host:port) as insecure
// registries. The caller stops it.
func startEngine(ctx context.Context, registries []string) (*engine, error) {
	if err := ensureDockerd(); err != nil {
		return nil, err
	}
	bin, _ := lookDockerd()
	// A short directory: dockerd's and containerd's sockets live in it.
	dir, err := os.MkdirTemp("", "dcconf-")
	if err != nil {
		return nil, err
	}
	// docker-compose's builds need the engine's bridge network ("network
	// bridge not found" without one): a bridge interface of this engine's
	// own, not docker0, which a Docker of the machine may own.
	br, err := addBridge()
	if err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]any{
		"insecure-registries": registries,
		"iptables":            false,
		"ip-masq":             false,
		"bridge":              br,
	})
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), cfg, 0o644); err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "docker.sock")
	e := &engine{dir: dir, host: "unix://" + sock, bridge: br, done: make(chan struct{})}
	if e.log, err = os.Create(filepath.Join(dir, "dockerd.log")); err != nil {
		return nil, err
	}
	e.cmd = exec.Command(bin,
		"--config-file", filepath.Join(dir, "daemon.json"),
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--host", e.host,
	)
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	e.cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	// Its own process group; SIGTERM if this test binary dies first.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		delBridge(br)
		return nil, fmt.Errorf("starting dockerd: %w", err)
	}
	go func() { e.cmd.Wait(); close(e.done) }()

	deadline := time.Now().Add(90 * time.Second)
	for {
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err == nil {
			c.Close()
			out, err := exec.CommandContext(ctx, "docker", "-H", e.host, "version", "--format", "{{.Server.Version}}").CombinedOutput()
			if err == nil {
				break
			}
			_ = out
		}
		select {
		case <-e.done:
			return nil, fmt.Errorf("dockerd exited during start-up; log:\n%s", e.tail())
		case <-ctx.Done():
			e.stop()
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("dockerd did not answer within 90s; log:\n%s", e.tail())
		}
	}
	return e, nil
}

func (e *engine) tail() string {
	b, _ := os.ReadFile(filepath.Join(e.dir, "dockerd.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop terminates dockerd (which stops its containerd) and removes its
// directory.
func (e *engine) stop() error {
	if e == nil || e.cmd == nil || e.cmd.Process == nil {
		return nil
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.done
	}
	// dockerd's managed containerd normally exits with it; make sure.
	if b, err := os.ReadFile(filepath.Join(e.dir, "exec", "containerd", "containerd.pid")); err == nil {
		var pid int
		fmt.Sscan(string(b), &pid)
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 && strings.Contains(string(cmdline), "containerd") {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			time.Sleep(2 * time.Second)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	e.log.Close()
	delBridge(e.bridge)
	// The data root may hold mounts of a dying containerd for a moment.
	var err error
	for i := 0; i < 10; i++ {
		if err = os.RemoveAll(e.dir); err == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("removing %s: %w", e.dir, err)
}

// addBridge creates a bridge interface named after this process, with an
// address of its own /24 in 10.213.0.0/16 (dockerd takes the address of a
// bridge it is given).
func addBridge() (string, error) {
	pid := os.Getpid()
	name := fmt.Sprintf("dcconf%d", pid) // at most 13 characters of 15
	addr := fmt.Sprintf("10.213.%d.1/24", pid%250+1)
	delBridge(name) // left by a dead process of the same pid
	for _, args := range [][]string{
		{"link", "add", name, "type", "bridge"},
		{"addr", "add", addr, "dev", name},
		{"link", "set", name, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			delBridge(name)
			return "", fmt.Errorf("ip %s (the engine's bridge): %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return name, nil
}

func delBridge(name string) {
	if name != "" {
		_ = exec.Command("ip", "link", "delete", name).Run()
	}
}
