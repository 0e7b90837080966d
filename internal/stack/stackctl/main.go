// Command stackctl runs the local devcache stack for hack/stack:
//
//	stackctl -dir DIR [-port N] [-debian] up|down|env|status
//	stackctl tofu
//
// up starts the registry and buildkitd (detached) and seeds the images; down
// stops them; env prints export lines for eval; status reports each part
// and exits 1 when the daemons are not healthy. tofu builds the pinned
// OpenTofu CLI of the Terraform provider's tests into the machine's cache
// (stack.Tofu) and prints its path, so that CI can build it early.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/devcache/devcache/internal/stack"
)

func main() {
	dir := flag.String("dir", "", "stack state directory (required)")
	port := flag.Int("port", 5000, "registry port on 127.0.0.1 (0 = any free port)")
	debian := flag.Bool("debian", false, "up: also seed debian:bookworm")
	quiet := flag.Bool("q", false, "up: no progress lines")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: stackctl -dir DIR [-port N] [-debian] [-q] up|down|env|status\n       stackctl tofu\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 1 && flag.Arg(0) == "tofu" {
		p, err := stack.Tofu(context.Background(), prefixWriter{os.Stderr})
		if err != nil {
			fmt.Fprintf(os.Stderr, "stackctl: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(p)
		return
	}
	if *dir == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd := flag.Arg(0); cmd {
	case "up":
		var log io.Writer = prefixWriter{os.Stderr}
		if *quiet {
			log = nil
		}
		err = up(ctx, stack.Options{Dir: *dir, RegistryPort: *port, Debian: *debian, Log: log})
	case "down":
		err = down(*dir)
	case "env":
		err = env(*dir)
	case "status":
		err = status(ctx, *dir)
	default:
		fmt.Fprintf(os.Stderr, "stackctl: unknown command %q\n", cmd)
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stackctl: %v\n", err)
		os.Exit(1)
	}
}

func up(ctx context.Context, opts stack.Options) error {
	start := time.Now()
	s, err := stack.Up(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s (up in %s)\n", s, time.Since(start).Round(10*time.Millisecond))
	return nil
}

// down works from the pid files alone, so it also stops a stack whose
// stack.json is gone.
func down(dir string) error {
	s, err := stack.Load(dir)
	if err != nil {
		s = &stack.Stack{Dir: dir}
	}
	return s.Down()
}

func env(dir string) error {
	s, err := stack.Load(dir)
	if err != nil {
		return err
	}
	_, err = fmt.Print(s.Exports())
	return err
}

func status(ctx context.Context, dir string) error {
	s, err := stack.Load(dir)
	if err != nil {
		return err
	}
	for _, c := range s.Status(ctx) {
		state := "ok"
		if c.PID != 0 {
			state = fmt.Sprintf("ok, pid %d", c.PID)
		}
		if c.Err != nil {
			state = c.Err.Error()
		}
		fmt.Printf("%-40s %-30s %s\n", c.Name, state, c.Detail)
	}
	return s.Check(ctx)
}

// prefixWriter marks progress lines as the stack's.
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			if _, err := io.WriteString(p.w, "stack: "+l); err != nil {
				return 0, err
			}
		}
	}
	return len(b), nil
}
