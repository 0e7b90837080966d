package registry

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// ChallengeGuard is an http.RoundTripper that keeps credentials off plain
// HTTP until the registry asks for them. A request over http:// that
// carries an Authorization header to a host that has not yet answered with
// a challenge (401 and WWW-Authenticate) is sent without it; if the host
// then challenges, the request is sent once more with it. A challenge also
// admits the token realm it names. HTTPS requests pass unchanged.
//
// go-containerregistry sends Basic credentials to every registry whose
// /v2/ ping answers without a challenge; behind the guard they never cross
// plain HTTP to such a registry. Put the guard innermost, below mirror and
// scheme rewriting, so that it sees where a request really goes.
type ChallengeGuard struct {
	inner http.RoundTripper

	mu    sync.Mutex
	asked map[string]bool // host[:port]
}

// NewChallengeGuard wraps inner.
func NewChallengeGuard(inner http.RoundTripper) *ChallengeGuard {
	return &ChallengeGuard{inner: inner, asked: map[string]bool{}}
}

// Asked tells whether host[:port] has challenged for credentials.
func (g *ChallengeGuard) Asked(host string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.asked[host]
}

// RoundTrip implements http.RoundTripper.
func (g *ChallengeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.Header.Get("Authorization") == "" || g.Asked(req.URL.Host) {
		return g.observe(req)
	}
	anon := req.Clone(req.Context())
	anon.Header.Del("Authorization")
	resp, err := g.observe(anon)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !g.Asked(req.URL.Host) {
		return resp, err
	}
	// The registry asked: send the credentials, if the body can be sent again.
	retry := req
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry = req.Clone(req.Context())
		retry.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return g.observe(retry)
}

// observe sends req and records a challenge in the answer.
func (g *ChallengeGuard) observe(req *http.Request) (*http.Response, error) {
	resp, err := g.inner.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	challenges := resp.Header.Values("WWW-Authenticate")
	if len(challenges) == 0 {
		return resp, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked[req.URL.Host] = true
	for _, c := range challenges {
		if realm := challengeRealm(c); realm != nil && realm.Host != "" {
			g.asked[realm.Host] = true
		}
	}
	return resp, nil
}

// challengeRealm is the realm URL of a Bearer challenge, else nil.
func challengeRealm(challenge string) *url.URL {
	scheme, params, _ := strings.Cut(strings.TrimSpace(challenge), " ")
	if !strings.EqualFold(scheme, "bearer") {
		return nil
	}
	for _, p := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(k, "realm") {
			u, err := url.Parse(strings.Trim(v, `"`))
			if err != nil {
				return nil
			}
			return u
		}
	}
	return nil
}
