package policy

import (
	"errors"
	"strings"
	"testing"
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

func TestMatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"docker.io/library/*", "docker.io/library/alpine", true},
		{"docker.io/library/*", "docker.io/library/a/b", false},
		{"ghcr.io/devcontainers/**", "ghcr.io/devcontainers/features/node", true},
		{"ghcr.io/devcontainers/**", "ghcr.io/devcontainers", true},
		{"ghcr.io/devcontainers/**", "ghcr.io/devcontainersx/y", false},
		{"reg.example.com/team-*/dev", "reg.example.com/team-a/dev", true},
		{"reg.example.com/team-*/dev", "reg.example.com/team-a/b/dev", false},
		{"https://f.example.com/**", "https://f.example.com/a/b.tgz", true},
		{"https://f.example.com/*", "https://f.example.com/a/b.tgz", false},
	}
	for _, c := range cases {
		if got := Match(c.pat, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pat, c.s, got)
		}
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
	for _, bad := range []string{"!", "alpine@sha256:00", "a/[x"} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
