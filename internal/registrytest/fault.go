package registrytest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what a FaultProxy does to a matching request instead of (or
// before) forwarding it. Exactly one of Status, Reset, Truncate, Hang is
// set, or none with Delay alone.
type Fault struct {
	// Method matches the request method ("" any).
	Method string
	// Path is a regular expression matched against the URL path ("" any),
	// e.g. `/manifests/dc-` or `/blobs/uploads/`.
	Path string
	// Status answers with this code and an OCI error body (401 with a
	// Basic challenge); RetryAfter, if set, is sent as Retry-After.
	Status     int
	RetryAfter string
	// Reset closes the connection with a TCP RST before any answer.
	Reset bool
	// Truncate forwards the request but sends only half of the answer's
	// body (with the full Content-Length), then closes the connection.
	Truncate bool
	// Hang never answers: the request is held until the client gives up,
	// Release is called or the test ends.
	Hang bool
	// Delay waits this long before doing the rest (or forwarding).
	Delay time.Duration
	// Times limits the fault to the first Times matching requests (0: all).
	Times int
	// Every applies the fault to every Every-th matching request only
	// (0 or 1: each), to sprinkle faults among good answers.
	Every int
}

// Rule is a Fault installed on a FaultProxy, with its counters.
type Rule struct {
	Fault
	re      *regexp.Regexp
	mu      sync.Mutex
	matched int // requests that matched
	hits    int // requests the fault was applied to
}

// Hits is how many requests the fault was applied to so far.
func (r *Rule) Hits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

// Matched is how many requests matched the rule so far (faulted or not).
func (r *Rule) Matched() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.matched
}

// take counts a request of method and path and tells whether the fault
// applies to it.
func (r *Rule) take(method, path string) (match, apply bool) {
	if (r.Method != "" && r.Method != method) || !r.re.MatchString(path) {
		return false, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.matched++
	if r.Every > 1 && r.matched%r.Every != 0 {
		return true, false
	}
	if r.Times > 0 && r.hits >= r.Times {
		return true, false
	}
	r.hits++
	return true, true
}

// FaultProxy is a plain-HTTP reverse proxy on loopback in front of a
// registry that injects faults into the requests its rules match (the
// first matching rule whose fault applies wins) and forwards the others.
// It records every request.
type FaultProxy struct {
	// Host is the proxy's host:port.
	Host string

	mu       sync.Mutex
	rules    []*Rule
	requests []string
	release  chan struct{}
	holding  int
}

// StartFaults starts a FaultProxy in front of upstream (host:port of a
// plain-HTTP registry) and stops it when the test ends, releasing any held
// request.
func StartFaults(t testing.TB, upstream string) *FaultProxy {
	t.Helper()
	p := &FaultProxy{release: make(chan struct{})}
	p.Host = serve(t, upstream, p.handler)
	t.Cleanup(p.Release)
	return p
}

// Add installs a rule after the existing ones. It panics on a bad Path
// (a test's mistake).
func (p *FaultProxy) Add(f Fault) *Rule {
	r := &Rule{Fault: f, re: regexp.MustCompile(f.Path)}
	p.mu.Lock()
	p.rules = append(p.rules, r)
	p.mu.Unlock()
	return r
}

// Clear removes every rule; held requests stay held until Release.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	p.rules = nil
	p.mu.Unlock()
}

// Release lets every request held so far go on to the registry; later
// Hang faults hold again.
func (p *FaultProxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.release)
	p.release = make(chan struct{})
}

// Holding is how many requests are held (Hang) now: the client has not
// given up and Release has not been called.
func (p *FaultProxy) Holding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holding
}

// hold holds r until its client gives up (then it is dropped) or Release.
// It reads the request's body first: only then does the server notice a
// client that went away.
func (p *FaultProxy) hold(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	p.holding++
	release := p.release
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.holding--
		p.mu.Unlock()
	}()
	select {
	case <-r.Context().Done():
	case <-release:
		if r.Context().Err() == nil {
			next.ServeHTTP(w, r)
		}
	}
}

// Requests returns "METHOD path outcome" lines of the requests so far
// (outcome: the status forwarded, or the fault: "fault 503", "reset",
// "truncated", "hang") and forgets them.
func (p *FaultProxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.requests
	p.requests = nil
	return out
}

// Count is how many requests so far (since the last Requests) had method
// ("" any) and a path matching the regular expression path.
func (p *FaultProxy) Count(method, path string) int {
	re := regexp.MustCompile(path)
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.requests {
		m, rest, _ := strings.Cut(l, " ")
		pa, _, _ := strings.Cut(rest, " ")
		if (method == "" || m == method) && re.MatchString(pa) {
			n++
		}
	}
	return n
}

func (p *FaultProxy) record(r *http.Request, outcome string) {
	p.mu.Lock()
	p.requests = append(p.requests, r.Method+" "+r.URL.Path+" "+outcome)
	p.mu.Unlock()
}

// rule is the rule whose fault applies to r, nil for none.
func (p *FaultProxy) rule(r *http.Request) *Rule {
	p.mu.Lock()
	rules := append([]*Rule(nil), p.rules...)
	p.mu.Unlock()
	for _, rl := range rules {
		if _, apply := rl.take(r.Method, r.URL.Path); apply {
			return rl
		}
	}
	return nil
}

func (p *FaultProxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rl := p.rule(r)
		if rl == nil {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			p.record(r, strconv.Itoa(rec.status))
			return
		}
		if rl.Delay > 0 {
			select {
			case <-time.After(rl.Delay):
			case <-r.Context().Done():
				p.record(r, "gone while delayed")
				return
			}
		}
		switch {
		case rl.Status != 0:
			p.record(r, "fault "+strconv.Itoa(rl.Status))
			p.status(w, rl)
		case rl.Reset:
			p.record(r, "reset")
			reset(w)
		case rl.Truncate:
			p.record(r, "truncated")
			truncate(w, r, next)
		case rl.Hang:
			p.record(r, "hang")
			p.hold(w, r, next)
		default:
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			p.record(r, "delayed "+strconv.Itoa(rec.status))
		}
	})
}

func (p *FaultProxy) status(w http.ResponseWriter, rl *Rule) {
	if rl.RetryAfter != "" {
		w.Header().Set("Retry-After", rl.RetryAfter)
	}
	code := map[int]string{
		http.StatusUnauthorized:    "UNAUTHORIZED",
		http.StatusForbidden:       "DENIED",
		http.StatusNotFound:        "NAME_UNKNOWN",
		http.StatusTooManyRequests: "TOOMANYREQUESTS",
	}[rl.Status]
	if code == "" {
		code = "UNKNOWN"
	}
	if rl.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
	}
	writeError(w, rl.Status, code, fmt.Sprintf("registrytest fault: %d", rl.Status))
}

// reset closes the client's connection with an RST.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("registrytest: cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// truncate forwards r and sends half of the answer's body under the full
// Content-Length, then closes the connection.
func truncate(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	reset(w)
}
