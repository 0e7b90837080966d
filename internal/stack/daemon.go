package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	readyTimeout = 30 * time.Second
	checkTimeout = 2 * time.Second
	stopGrace    = 15 * time.Second
)

// daemonFiles names the stack's daemons and their config files, in start
// order.
var daemonFiles = []struct{ name, config string }{
	{registryName, registryConfigName},
	{buildkitdName, buildkitdConfigName},
}

// daemon is one long-running process of a stack. Its files in the stack
// directory are NAME.pid, NAME.log, NAME.spec and its config file, whose path
// is also the marker that identifies the process (see alive).
type daemon struct {
	name       string
	dir        string
	configName string // e.g. registry.yml
	config     []byte
	bin        string
	args       []string // must include the config file's path
	env        []string
	// prepare runs before a start, e.g. to check a port or remove a stale
	// socket.
	prepare func() error
	// check answers nil when the daemon serves requests.
	check func(ctx context.Context) error
}

func (d *daemon) pidFile() string    { return filepath.Join(d.dir, d.name+".pid") }
func (d *daemon) logFile() string    { return filepath.Join(d.dir, d.name+".log") }
func (d *daemon) specFile() string   { return filepath.Join(d.dir, d.name+".spec") }
func (d *daemon) configFile() string { return filepath.Join(d.dir, d.configName) }

// spec identifies what would be started: a running daemon with another
// spec (new binaries, new port) is restarted.
func (d *daemon) spec() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", d.bin, strings.Join(d.args, "\x00"))
	h.Write(d.config)
	return hex.EncodeToString(h.Sum(nil))
}

// ensure leaves the daemon running and answering, starting it when needed.
// It reports the pid and whether it started a process.
func (d *daemon) ensure(ctx context.Context, ephemeral bool, log io.Writer) (int, bool, error) {
	want := d.spec()
	if pid, ok := ourPid(d.pidFile(), d.configFile()); ok {
		have, _ := os.ReadFile(d.specFile())
		reason := "its configuration changed"
		if string(have) == want {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			err := d.check(cctx)
			cancel()
			if err == nil {
				fmt.Fprintf(log, "%s is running (pid %d)\n", d.name, pid)
				return pid, false, nil
			}
			reason = fmt.Sprintf("it does not answer (%v)", err)
		}
		fmt.Fprintf(log, "restarting %s (pid %d): %s\n", d.name, pid, reason)
		if err := stopProcess(pid, d.configFile(), stopGrace); err != nil {
			return 0, false, fmt.Errorf("stopping %s: %w", d.name, err)
		}
	}
	if err := removeIfExists(d.pidFile()); err != nil {
		return 0, false, err
	}
	if d.prepare != nil {
		if err := d.prepare(); err != nil {
			return 0, false, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	if err := os.WriteFile(d.configFile(), d.config, 0o644); err != nil {
		return 0, false, fmt.Errorf("writing %s config: %w", d.name, err)
	}
	pid, exited, err := startDetached(d.bin, d.args, d.env, d.logFile(), ephemeral)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w; see %s", d.name, err, d.logFile())
	}
	abort := func(err error) (int, bool, error) {
		stopStarted(pid, exited, stopGrace)
		_ = removeIfExists(d.pidFile())
		return 0, false, err
	}
	if err := writePidFile(d.pidFile(), pid); err != nil {
		return abort(fmt.Errorf("%s: %w", d.name, err))
	}
	if err := os.WriteFile(d.specFile(), []byte(want), 0o644); err != nil {
		return abort(fmt.Errorf("%s: writing spec file: %w", d.name, err))
	}
	start := time.Now()
	if err := d.waitReady(ctx, pid, exited); err != nil {
		return abort(err)
	}
	fmt.Fprintf(log, "started %s (pid %d, ready in %s, log %s)\n", d.name, pid, time.Since(start).Round(10*time.Millisecond), d.logFile())
	return pid, true, nil
}

// waitReady polls check until it answers, the process exits, or
// readyTimeout passes; the errors quote the end of the log.
func (d *daemon) waitReady(ctx context.Context, pid int, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("%s (pid %d) exited during startup; see %s:\n%s", d.name, pid, d.logFile(), logTail(d.logFile()))
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		err := d.check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready in %s (last check: %v); see %s:\n%s", d.name, readyTimeout, err, d.logFile(), logTail(d.logFile()))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; see %s", d.name, context.Cause(ctx), d.logFile())
		case <-exited:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop stops the daemon if its pid file names a live process of ours, and
// removes the pid file either way.
func stopDaemon(dir, name, configName string) error {
	d := &daemon{name: name, dir: dir, configName: configName}
	if pid, ok := ourPid(d.pidFile(), d.configFile()); ok {
		if err := stopProcess(pid, d.configFile(), stopGrace); err != nil {
			return fmt.Errorf("stopping %s: %w; see %s", name, err, d.logFile())
		}
	}
	return removeIfExists(d.pidFile())
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}
