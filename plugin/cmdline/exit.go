package cmdline

import (
	"errors"
	"fmt"
	"os"
)

// StatusError is a command's failure with the exit code it gives the
// process (probe: 1 on a miss, 2 on an error). Status is what is printed.
type StatusError struct {
	Cause      error
	Status     string
	StatusCode int
}

func (e StatusError) Error() string {
	if e.Status != "" {
		return e.Status
	}
	if e.Cause != nil {
		return e.Cause.Error()
	}
	return fmt.Sprintf("exit status %d", e.StatusCode)
}

func (e StatusError) Unwrap() error { return e.Cause }

// Exit ends the process after a command run: nothing on success, else the
// error on stderr and its exit code (a StatusError's, else 1; never 0).
func Exit(err error) {
	if err == nil {
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(ExitCode(err))
}

// ExitCode is the exit code err gives the process: 0 for nil, a
// StatusError's code, else 1.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var st StatusError
	if errors.As(err, &st) && st.StatusCode != 0 {
		return st.StatusCode
	}
	return 1
}
