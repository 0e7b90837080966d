package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// execEngine runs the devcache binary at path with args, this process's
// environment and standard streams, and exits with its exit code (Windows
// has no exec).
func execEngine(path string, args []string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	os.Exit(0)
	return nil
}
