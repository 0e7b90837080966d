// Package registrytest puts an authenticating proxy on loopback in front of
// a real registry, so tests can prove which commands only read and whose
// credentials they send: user "reader" may GET and HEAD, user "writer" may
// do everything, anyone else gets 401 with a Basic challenge (options let
// anonymous users read, or answer them 404 as registries hiding private
// repositories do). It records every request with its user and status.
// Beside it: RaceProxy (race.go) makes two clients race for a tag, and
// FaultProxy (fault.go) injects faults (statuses, Retry-After, resets,
// truncated bodies, delays, hangs) into the requests its rules match. It
// is for tests only and imports nothing of devcache.
package registrytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The proxy's users.
const (
	Reader         = "reader"
	ReaderPassword = "reader-secret"
	Writer         = "writer"
	WriterPassword = "writer-secret"
)

// Proxy is a running auth proxy.
type Proxy struct {
	// Host is the proxy's host:port (plain HTTP on 127.0.0.1).
	Host string

	anonymous anonymousMode
	mu        sync.Mutex
	requests  []string
}

type anonymousMode int

const (
	anonymousChallenged anonymousMode = iota // 401 with a Basic challenge
	anonymousRead                            // GET and HEAD pass
	anonymousNotFound                        // 404, except the /v2/ ping
)

// Option changes how a Proxy answers requests without valid credentials.
type Option func(*Proxy)

// AnonymousRead lets requests without credentials GET and HEAD, as a
// registry with anonymous pull does; they still may not write (401 with a
// Basic challenge).
func AnonymousRead() Option { return func(p *Proxy) { p.anonymous = anonymousRead } }

// AnonymousNotFound answers requests without credentials with 404
// NAME_UNKNOWN, as registries that hide private repositories from anonymous
// users do; only the /v2/ ping still challenges (401, Basic).
func AnonymousNotFound() Option { return func(p *Proxy) { p.anonymous = anonymousNotFound } }

// Start starts a proxy in front of upstream (host:port of a plain-HTTP
// registry, or a URL) and stops it when the test ends.
func Start(t testing.TB, upstream string, opts ...Option) *Proxy {
	t.Helper()
	p := &Proxy{}
	for _, o := range opts {
		o(p)
	}
	p.Host = serve(t, upstream, p.handler)
	return p
}

// serve runs handler, wrapped around a reverse proxy to upstream (host:port
// of a plain-HTTP registry, or a URL), on a loopback port until the test
// ends, and returns its host:port.
func serve(t testing.TB, upstream string, handler func(next http.Handler) http.Handler) string {
	t.Helper()
	if !strings.Contains(upstream, "://") {
		upstream = "http://" + upstream
	}
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("registrytest: upstream %q: %v", upstream, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	srv := &http.Server{Handler: handler(httputil.NewSingleHostReverseProxy(target))}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// allowed tells whether user may send method.
func allowed(user, method string) bool {
	switch user {
	case Writer:
		return true
	case Reader:
		return method == http.MethodGet || method == http.MethodHead
	}
	return false
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := authenticate(r)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			p.mu.Lock()
			p.requests = append(p.requests, fmt.Sprintf("%s %s %s %d", orAnon(user, r), r.Method, r.URL.Path, rec.status))
			p.mu.Unlock()
		}()
		anonymous := r.Header.Get("Authorization") == ""
		switch {
		case anonymous && p.anonymous == anonymousRead && allowed(Reader, r.Method):
			next.ServeHTTP(rec, r)
		case anonymous && p.anonymous == anonymousNotFound && r.URL.Path != "/v2/":
			writeError(rec, http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry")
		case user == "":
			rec.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
			writeError(rec, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		case !allowed(user, r.Method):
			writeError(rec, http.StatusForbidden, "DENIED", fmt.Sprintf("requested access to the resource is denied: %s may not %s", user, r.Method))
		default:
			r.Header.Del("Authorization")
			next.ServeHTTP(rec, r)
		}
	})
}

// authenticate returns the user of valid Basic credentials, else "".
func authenticate(r *http.Request) string {
	u, pw, ok := r.BasicAuth()
	if !ok {
		return ""
	}
	switch {
	case u == Reader && pw == ReaderPassword, u == Writer && pw == WriterPassword:
		return u
	}
	return ""
}

// orAnon names a request's sender: its user, "?" for an Authorization
// header of no user of the proxy, "-" for none.
func orAnon(u string, r *http.Request) string {
	switch {
	case u != "":
		return u
	case r.Header.Get("Authorization") != "":
		return "?"
	}
	return "-"
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// ReadFrom keeps io.Copy fast through the recorder.
func (s *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	s.wrote = true
	return io.Copy(s.ResponseWriter, r)
}

// Requests returns "user METHOD path status" lines served so far ("-" for
// no Authorization header, "?" for one of no user of the proxy) and forgets
// them.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.requests
	p.requests = nil
	return out
}

// DockerConfig writes a docker config directory holding user's credentials
// for the proxy and returns it (for DOCKER_CONFIG).
func (p *Proxy) DockerConfig(t testing.TB, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg := map[string]any{"auths": map[string]any{p.Host: map[string]string{"auth": auth}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
