package policy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/sourcepolicy"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
)

func TestImageRepository(t *testing.T) {
	for in, want := range map[string]string{
		"alpine":                                 "docker.io/library/alpine",
		"alpine:3.20":                            "docker.io/library/alpine",
		"library/alpine@sha256:abc":              "docker.io/library/alpine",
		"index.docker.io/foo/bar:1":              "docker.io/foo/bar",
		"docker.io/alpine":                       "docker.io/library/alpine",
		"mcr.microsoft.com/devcontainers/base:1": "mcr.microsoft.com/devcontainers/base",
		"127.0.0.1:5000/x/y:2":                   "127.0.0.1:5000/x/y",
		"localhost/x":                            "localhost/x",
		"ghcr.io/devcontainers/features/node:1":  "ghcr.io/devcontainers/features/node",
	} {
		got, err := ImageRepository(in)
		if err != nil || got != want {
			t.Errorf("ImageRepository(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestCompiledPatterns: each pattern, compiled to a BuildKit source policy
// and evaluated by BuildKit's engine on the identifiers buildkitd sees
// (with tags, digests and the blob scheme), matches the repository or URL
// as the package documents, and a wildcard never swallows a tag.
func TestCompiledPatterns(t *testing.T) {
	cases := []struct {
		pat, id string
		want    bool
	}{
		{"docker.io/library/*", "docker-image://docker.io/library/alpine:3", true},
		{"docker.io/library/*", "docker-image://docker.io/library/alpine:3@sha256:0123abcd", true},
		{"docker.io/library/*", "docker-image://docker.io/library/a/b:1", false},
		{"alpine", "docker-image://docker.io/library/alpine:latest", true},
		{"alpine", "docker-image://docker.io/library/alpinex:latest", false},
		{"docker.io/library/*3", "docker-image://docker.io/library/alpine:3", false},
		{"docker.io/**3", "docker-image://docker.io/library/alpine:3", false},
		{"docker.io/**e", "docker-image://docker.io/library/alpine:3", true},
		{"ghcr.io/devcontainers/**", "docker-image+blob://ghcr.io/devcontainers/features/node@sha256:00ff", true},
		{"ghcr.io/devcontainers/**", "oci-layout+blob://ghcr.io/devcontainers/features/node@sha256:00ff", true},
		{"ghcr.io/devcontainers/**", "docker-image://ghcr.io/devcontainers:1", true},
		{"ghcr.io/devcontainers/**", "docker-image://ghcr.io/devcontainersx/y:1", false},
		{"reg.example.com/team-*/dev", "docker-image://reg.example.com/team-a/dev:1", true},
		{"reg.example.com/team-*/dev", "docker-image://reg.example.com/team-a/b/dev:1", false},
		{"**", "docker-image://localhost:5000/x/y:1", true},
		{"*/**", "docker-image://localhost:5000/x/y:1", true},
		{"*.example.com/**", "docker-image://r.example.com/x:1", true},
		{"https://f.example.com/**", "https://f.example.com/a/b.tgz", true},
		{"https://f.example.com/*", "https://f.example.com/a/b.tgz", false},
		{"https://f.example.com/**", "docker-image://f.example.com/a:1", false},
		{"**", "https://f.example.com/a.tgz", true},
	}
	for _, c := range cases {
		p, err := Parse([]string{c.pat})
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.pat, err)
		}
		if got := allowedByEngine(t, p, c.id); got != c.want {
			t.Errorf("%q on %q: allowed=%v, want %v", c.pat, c.id, got, c.want)
		}
	}
}

// TestUngovernedSources: the build context, git and a client's OCI layout
// are left alone even by a policy that denies everything it can.
func TestUngovernedSources(t *testing.T) {
	p, err := Parse([]string{"!**", "!https://**"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"local://context", "git://github.com/moby/buildkit.git#main", "oci-layout://devcache-warm@sha256:00ff"} {
		if !allowedByEngine(t, p, id) {
			t.Errorf("%s refused", id)
		}
	}
	for _, id := range []string{"docker-image://docker.io/library/alpine:3", "https://x.example.com/a.tgz", "http://x.example.com/a.tgz"} {
		if allowedByEngine(t, p, id) {
			t.Errorf("%s allowed", id)
		}
	}
}

// allowedByEngine evaluates p's compiled policy as buildkitd does.
func allowedByEngine(t testing.TB, p *Policy, id string) bool {
	t.Helper()
	_, err := sourcepolicy.NewEngine([]*spb.Policy{p.SourcePolicy()}).Evaluate(context.Background(), &pb.SourceOp{Identifier: id})
	if err != nil && !errors.Is(err, sourcepolicy.ErrSourceDenied) {
		t.Fatalf("evaluating %q: %v", id, err)
	}
	return err == nil
}

// TestExplain: buildkitd's refusal, as text through gRPC, becomes an error
// naming the reference, its repository and the rule or the rules.
func TestExplain(t *testing.T) {
	p, err := Parse([]string{"127.0.0.1:5000/ok/*", "!127.0.0.1:5000/ok/bad"})
	if err != nil {
		t.Fatal(err)
	}
	bk := errors.New(`failed to solve: failed to load LLB: source "docker-image://127.0.0.1:5000/evil/x:1@sha256:00ff" denied by policy: source denied by policy`)
	got := p.Explain(bk)
	var re *RefusedError
	if !errors.As(got, &re) || re.Rule != nil || re.Cause != bk ||
		!strings.Contains(got.Error(), `image "127.0.0.1:5000/evil/x:1@sha256:00ff" (127.0.0.1:5000/evil/x) matches none of the --allow rules [127.0.0.1:5000/ok/* !127.0.0.1:5000/ok/bad]`) {
		t.Errorf("Explain: %v", got)
	}
	if strings.Contains(got.Error(), "denied by policy") || p.Explain(got) != got {
		t.Errorf("Explain is not idempotent: %v", got)
	}
	got = p.Explain(errors.New(`source "docker-image+blob://127.0.0.1:5000/ok/bad@sha256:00ff" denied by policy`))
	if !errors.As(got, &re) || re.Rule == nil || re.Kind != KindFeature || !strings.Contains(got.Error(), `refused by the rule --allow "!127.0.0.1:5000/ok/bad"`) {
		t.Errorf("Explain deny rule: %v", got)
	}
	got = p.Explain(errors.New(`source "https://x.example.com/f.tgz" denied by policy`))
	if !errors.As(got, &re) || re.Kind != KindURL || re.Subject != "https://x.example.com/f.tgz" {
		t.Errorf("Explain URL: %v", got)
	}
	if other := errors.New("exit code 1"); p.Explain(other) != other {
		t.Error("Explain changed an unrelated error")
	}
}

func TestPolicy(t *testing.T) {
	p, err := Parse([]string{"alpine,docker.io/library/debian", "ghcr.io/devcontainers/features/**", "!ghcr.io/devcontainers/features/docker-in-docker"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"alpine:3", "docker.io/library/alpine@sha256:00", "debian:12"} {
		if err := p.CheckImage(KindImage, ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	err = p.CheckImage(KindDockerfile, "ubuntu:24.04")
	var re *RefusedError
	if !errors.As(err, &re) || re.Rule != nil || !strings.Contains(err.Error(), `"ubuntu:24.04"`) || !strings.Contains(err.Error(), "Dockerfile FROM") || !strings.Contains(err.Error(), "ghcr.io/devcontainers/features/**") {
		t.Errorf("ubuntu: %v", err)
	}
	if err := p.CheckFeature("ghcr.io/devcontainers/features/node:1", "ghcr.io/devcontainers/features/node", false); err != nil {
		t.Error(err)
	}
	err = p.CheckFeature("ghcr.io/devcontainers/features/docker-in-docker:2", "ghcr.io/devcontainers/features/docker-in-docker", false)
	if !errors.As(err, &re) || re.Rule == nil || re.Rule.Pattern != "!ghcr.io/devcontainers/features/docker-in-docker" || !strings.Contains(err.Error(), `--allow "!ghcr.io/devcontainers/features/docker-in-docker"`) {
		t.Errorf("deny rule: %v", err)
	}
	if err := p.CheckFeature("https://x.example.com/f.tgz", "https://x.example.com/f.tgz", false); err == nil {
		t.Error("tarball allowed")
	}
	if err := p.CheckFeature("./local", "", true); err != nil {
		t.Errorf("local: %v", err)
	}
	if err := (&Policy{}).CheckImage(KindImage, "anything"); err != nil {
		t.Errorf("empty policy: %v", err)
	}
	if q, _ := Parse([]string{p.Attr()}); q.Attr() != p.Attr() || len(q.Rules) != 4 {
		t.Errorf("Attr round trip: %q", q.Attr())
	}
	for _, bad := range []string{"!", "alpine@sha256:00", "a/[x", "alpine:3", "localhost:5000", "*", "git://github.com/x/**"} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
