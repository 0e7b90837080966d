package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
)

const registryConfigName = "registry.yml"

// registryConfig is the configuration of Debian's docker-registry (CNCF
// distribution 2.8): filesystem storage in the stack directory, deletes
// enabled (prune tests), loopback only, no auth.
func registryConfig(dataDir, addr string) []byte {
	return fmt.Appendf(nil, `version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  # One fixed secret for this single instance; without it the registry
  # logs a warning and makes a random one at every start.
  secret: devcache-local-stack
  headers:
    X-Content-Type-Options: [nosniff]
`, strconv.Quote(dataDir), strconv.Quote(addr))
}

func (s *Stack) registryDaemon(bin string) *daemon {
	d := &daemon{
		name:       registryName,
		dir:        s.Dir,
		configName: registryConfigName,
		config:     registryConfig(filepath.Join(s.Dir, registryDataDir), s.Registry),
		bin:        bin,
		env:        os.Environ(),
	}
	d.args = []string{"serve", d.configFile()}
	d.prepare = func() error {
		if err := os.MkdirAll(filepath.Join(s.Dir, registryDataDir), 0o755); err != nil {
			return fmt.Errorf("creating storage: %w", err)
		}
		if !portFree(s.Registry) {
			return fmt.Errorf("%s is in use by a process this stack did not start; stop it or choose another port (DEVCACHE_REGISTRY_PORT)", s.Registry)
		}
		return nil
	}
	d.check = func(ctx context.Context) error { return registryAnswers(ctx, s.Registry) }
	return d
}

// ensureRegistry runs the registry. A port this package picked can be
// taken by another process before the registry binds it (test binaries
// start stacks in parallel), so then it tries other ports.
func (s *Stack) ensureRegistry(ctx context.Context, bin string, opts Options, log io.Writer) error {
	for attempt := 1; ; attempt++ {
		_, _, err := s.registryDaemon(bin).ensure(ctx, opts.Ephemeral, log)
		if err == nil || opts.RegistryPort != 0 || attempt == 3 {
			return err
		}
		port, perr := freeLoopbackPort()
		if perr != nil {
			return errors.Join(err, perr)
		}
		fmt.Fprintf(log, "registry failed on %s, trying port %d: %v\n", s.Registry, port, err)
		s.Registry = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
}

// previousPort is the port of an earlier Up in dir if its registry still
// runs or the port is free, else 0.
func previousPort(dir string) int {
	st, err := readState(dir)
	if err != nil {
		return 0
	}
	_, p, err := net.SplitHostPort(st.Registry)
	if err != nil {
		return 0
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return 0
	}
	if _, ok := ourPid(filepath.Join(dir, registryName+".pid"), filepath.Join(dir, registryConfigName)); ok || portFree(st.Registry) {
		return port
	}
	return 0
}

// registryAnswers checks the distribution API's base endpoint.
func registryAnswers(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v2/: %s", resp.Status)
	}
	return nil
}

func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freeLoopbackPort asks the kernel for an unused port on 127.0.0.1. Another
// process could take it before the registry binds it; the registry then
// fails to start and Up reports its log.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
