package policy

import (
	"strings"
	"testing"
	"time"
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
