package registrytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// RaceProxy is a plain-HTTP proxy on loopback in front of a registry that
// makes two clients race for a tag: a GET or HEAD of a matching tag's
// manifest that the registry answers 404 is held until a second such
// request has its 404 too; then the first is answered at once and the
// second Delay later. Both clients so learn that the tag is absent, and
// the second writes it after the first did. It needs no credentials and
// records the digest of every manifest PUT to a matching tag.
type RaceProxy struct {
	// Host is the proxy's host:port.
	Host string
	// Delay is how much later the second of a pair gets its 404.
	Delay time.Duration
	// Timeout is how long a held 404 waits for its partner before it is
	// answered alone.
	Timeout time.Duration

	match   func(tag string) bool
	mu      sync.Mutex
	waiting chan struct{}
	pairs   int
	puts    []string
}

// StartRace starts a RaceProxy in front of upstream (host:port of a
// plain-HTTP registry) for the tags match accepts, and stops it when the
// test ends.
func StartRace(t testing.TB, upstream string, match func(tag string) bool) *RaceProxy {
	t.Helper()
	p := &RaceProxy{Delay: time.Second, Timeout: 5 * time.Minute, match: match}
	p.Host = serve(t, upstream, p.handler)
	return p
}

// Pairs is how many pairs of 404s were answered as a race.
func (p *RaceProxy) Pairs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pairs
}

// Puts returns "tag sha256:…" for each manifest PUT to a matching tag.
func (p *RaceProxy) Puts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.puts...)
}

func (p *RaceProxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, ok := p.manifestTag(r.URL.Path)
		switch {
		case !ok:
			next.ServeHTTP(w, r)
		case r.Method == http.MethodPut:
			body, _ := io.ReadAll(r.Body)
			sum := sha256.Sum256(body)
			p.mu.Lock()
			p.puts = append(p.puts, tag+" sha256:"+hex.EncodeToString(sum[:]))
			p.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if rec.Code == http.StatusNotFound {
				p.meet()
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// meet holds the first 404 of a pair until the second arrives, and the
// second for Delay.
func (p *RaceProxy) meet() {
	p.mu.Lock()
	if ch := p.waiting; ch != nil {
		p.waiting = nil
		p.pairs++
		p.mu.Unlock()
		close(ch)
		time.Sleep(p.Delay)
		return
	}
	ch := make(chan struct{})
	p.waiting = ch
	p.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(p.Timeout):
		p.mu.Lock()
		if p.waiting == ch {
			p.waiting = nil
		}
		p.mu.Unlock()
	}
}

// manifestTag returns the tag of a /v2/<name>/manifests/<tag> path that
// match accepts (not a digest).
func (p *RaceProxy) manifestTag(path string) (string, bool) {
	i := strings.LastIndex(path, "/manifests/")
	if !strings.HasPrefix(path, "/v2/") || i < 0 {
		return "", false
	}
	tag := path[i+len("/manifests/"):]
	if strings.Contains(tag, ":") || !p.match(tag) {
		return "", false
	}
	return tag, true
}
