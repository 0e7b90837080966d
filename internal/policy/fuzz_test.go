package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/distribution/reference"
)

// FuzzPolicy: any rules and any reference parse or fail cleanly, never
// panic, and matching stays fast.
func FuzzPolicy(f *testing.F) {
	f.Add("docker.io/library/*,!docker.io/library/ubuntu", "alpine:3")
	f.Add("ghcr.io/**", "ghcr.io/devcontainers/features/node:1")
	f.Add("https://x.example.com/**", "https://x.example.com/a.tgz")
	f.Add("*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 60))
	f.Fuzz(func(t *testing.T, rules, ref string) {
		p, err := Parse([]string{rules})
		if err != nil {
			return
		}
		start := time.Now()
		_ = p.CheckImage(KindImage, ref)
		_ = p.CheckFeature(ref, ref, false)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("matching %q against %q took %s", ref, rules, d)
		}
		if q, err := Parse([]string{p.Attr()}); err != nil || q.Attr() != p.Attr() {
			t.Fatalf("Attr round trip of %q: %q, %v", rules, p.Attr(), err)
		}
	})
}

// FuzzCompiledMatchesGlob: the compiled BuildKit policy decides every
// image identifier (any tag, digest, blob scheme) and every URL exactly as
// the documented glob semantics decide its repository or URL.
func FuzzCompiledMatchesGlob(f *testing.F) {
	f.Add("docker.io/library/*", "alpine:3")
	f.Add("docker.io/**3", "alpine:3")
	f.Add("*/**", "localhost:5000/x/y:1")
	f.Add("**e", "docker.io/library/alpine:3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	f.Add("https://x.example.com/**", "https://x.example.com/a.tgz")
	f.Add("**//x.example.com/*", "https://x.example.com/a.tgz")
	f.Fuzz(func(t *testing.T, pattern, ref string) {
		p, err := Parse([]string{pattern})
		if err != nil || len(p.Rules) != 1 || p.Rules[0].Deny {
			return
		}
		norm := p.Rules[0].norm
		if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
			if strings.ContainsAny(ref, "\" \n") {
				return
			}
			if got, want := allowedByEngine(t, p, ref), globMatch(norm, ref); got != want {
				t.Fatalf("%q on URL %q: compiled %v, glob %v", pattern, ref, got, want)
			}
			return
		}
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return
		}
		want := globMatch(norm, named.Name())
		for _, id := range []string{"docker-image://" + named.String(), "docker-image+blob://" + named.String()} {
			if got := allowedByEngine(t, p, id); got != want {
				t.Fatalf("%q on %q: compiled %v, glob on %q %v", pattern, id, got, named.Name(), want)
			}
		}
	})
}

// globMatch is the documented pattern semantics, by backtracking: "*" any
// run without "/", "**" any run, a trailing "/**" also matches its prefix.
func globMatch(p, s string) bool {
	if prefix, ok := strings.CutSuffix(p, "/**"); ok && globMatch(prefix, s) {
		return true
	}
	memo := map[[2]int]bool{}
	var m func(i, j int) bool
	m = func(i, j int) bool {
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(p):
			r = j == len(s)
		case strings.HasPrefix(p[i:], "**"):
			k := i
			for k < len(p) && p[k] == '*' {
				k++
			}
			r = m(k, j) || (j < len(s) && m(i, j+1))
		case p[i] == '*':
			r = m(i+1, j) || (j < len(s) && s[j] != '/' && m(i, j+1))
		default:
			r = j < len(s) && p[i] == s[j] && m(i+1, j+1)
		}
		memo[key] = r
		return r
	}
	return m(0, 0)
}
