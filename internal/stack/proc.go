package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A pid file holds the decimal pid of a process this package started. The
// process is taken to be ours only while /proc/PID/cmdline names our config
// file (its marker), so a recycled pid is never signalled.

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds %q, not a pid", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

func writePidFile(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	return nil
}

// ourPid returns the pid in pidFile if that process is alive and is ours.
func ourPid(pidFile, marker string) (int, bool) {
	pid, err := readPidFile(pidFile)
	if err != nil {
		return 0, false
	}
	return pid, alive(pid, marker)
}

// alive reports whether pid runs with marker as one of its arguments.
func alive(pid int, marker string) bool {
	if !running(pid) {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	for _, arg := range bytes.Split(cmdline, []byte{0}) {
		if string(arg) == marker {
			return true
		}
	}
	return false
}

// running reports whether pid exists and is not a zombie. Unlike alive it
// holds until the very end of an exit: /proc/PID/cmdline reads empty as
// soon as an exiting process drops its memory, before it closes its files
// (and so its listening socket).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesized command name, which may itself
	// contain parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// startDetached starts bin in a new session with its output in logPath, so
// that it outlives the caller. With ephemeral it also gets SIGTERM when the
// caller dies (for test binaries, whose stacks must not leak). exited is
// closed when the process exits while the caller still runs. (Right after
// exec, /proc/PID/cmdline can still read empty, so a fresh process is
// watched through exited rather than alive.)
func startDetached(bin string, args, env []string, logPath string, ephemeral bool) (pid int, exited <-chan struct{}, err error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("opening log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if ephemeral {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	// Reap it if it exits while we still run; after we exit, init does.
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	return cmd.Process.Pid, done, nil
}

// stopProcess sends SIGTERM, waits up to grace, then SIGKILLs the process
// group (the daemon leads its own session) and waits a little more.
func stopProcess(pid int, marker string, grace time.Duration) error {
	if !alive(pid, marker) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling pid %d: %w", pid, err)
	}
	if waitExit(pid, grace) {
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitExit(pid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("pid %d did not exit after SIGTERM and SIGKILL", pid)
}

// stopStarted stops a process this process started (and so reaps).
func stopStarted(pid int, exited <-chan struct{}, grace time.Duration) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	<-exited
}

// waitExit waits until pid has exited completely (see running).
func waitExit(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for running(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
