//go:build !windows

package main

import (
	"fmt"
	"os"
	"syscall"
)

// execEngine replaces this process with the devcache binary at path, with
// args and this process's environment: same PID, same signals, same exit
// code for the docker CLI.
func execEngine(path string, args []string) error {
	// Exec returns only when it failed.
	err := syscall.Exec(path, append([]string{path}, args...), os.Environ())
	return fmt.Errorf("exec %s: %w", path, err)
}
