package plan_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"

	// Compose configs: compose-go, registered as compose.Load's loader.
	_ "github.com/devcache/devcache/devcontainer/compose/composego"
)

const composeConfig = `{
	// A Compose config: the service app, built, with a local feature.
	"dockerComposeFile": ["docker-compose.yml", "docker-compose.extra.yml"],
	"service": "app",
	"runServices": ["app", "db"],
	"workspaceFolder": "/workspace",
	"features": {"./local": {}}
}
`

const composeFile = `# the dev service and a database
services:
  app:
    build:
      context: ..
      dockerfile: .devcontainer/Dockerfile
      target: dev
      args:
        GREETING: ${GREETING:-hi}
        FLAVOR: ${FLAVOR}
    user: vscode
    ports: ["8080:80"]
    volumes: ["..:/workspace:cached"]
    environment:
      RUNTIME_ONLY: "1"
  db:
    image: postgres:16
    ports: ["5432:5432"]
`

const composeDockerfile = `FROM devcache.test/base:1 AS dev
ARG GREETING
ARG FLAVOR
ARG EXTRA
COPY src/ /src/
RUN echo "$GREETING $FLAVOR $EXTRA" > /greeting

FROM dev AS prod
RUN echo prod
`

func newComposeWorkspace(t *testing.T) string {
	ws := filepath.Join(t.TempDir(), "checkout")
	dc := filepath.Join(ws, ".devcontainer")
	write(t, filepath.Join(dc, "devcontainer.json"), composeConfig)
	write(t, filepath.Join(dc, "docker-compose.yml"), composeFile)
	write(t, filepath.Join(dc, "docker-compose.extra.yml"), "services:\n  app:\n    build:\n      args:\n        EXTRA: one\n")
	write(t, filepath.Join(dc, ".env"), "FLAVOR=mild\n")
	write(t, filepath.Join(dc, "Dockerfile"), composeDockerfile)
	write(t, filepath.Join(dc, "local", "devcontainer-feature.json"), `{"id":"local","version":"1.0.0"}`)
	write(t, filepath.Join(dc, "local", "install.sh"), "echo local\n")
	write(t, filepath.Join(ws, "src", "main.go"), "package main\n")
	return ws
}

func composePlan(t *testing.T, ws string, r *testResolver, o plan.Options) *plan.Plan {
	t.Helper()
	if o.Environ == nil {
		o.Environ = []string{}
	}
	res, err := planFor(t, ws, r, o)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return res.Plan
}

// A Compose service with build is planned as a Dockerfile build: the
// merged args (.env, second file), the target, the context files, the
// pinned base; the service user is the features' _CONTAINER_USER.
func TestComposeBuildPlan(t *testing.T) {
	ws := newComposeWorkspace(t)
	p := composePlan(t, ws, newResolver(t, resolve.Options{}), plan.Options{})
	df := p.Base.Dockerfile
	if p.Base.Kind != devcontainer.KindCompose || df == nil {
		t.Fatalf("base = %+v", p.Base)
	}
	wantArgs := []devcontainer.EnvVar{{Name: "EXTRA", Value: "one"}, {Name: "FLAVOR", Value: "mild"}, {Name: "GREETING", Value: "hi"}}
	if df.Path != ".devcontainer/Dockerfile" || df.Context != "." || df.Target != "dev" || !strings.HasPrefix(df.ContextDigest, "sha256:") ||
		len(df.Args) != 3 || df.Args[0] != wantArgs[0] || df.Args[1] != wantArgs[1] || df.Args[2] != wantArgs[2] {
		t.Fatalf("dockerfile = %+v", df)
	}
	if p.Base.Image == nil || p.Base.Image.Digest != digest("1") || p.ImageUser != "root" {
		t.Fatalf("base image %+v, user %q", p.Base.Image, p.ImageUser)
	}
	if p.Users == nil || p.Users.ContainerUser != "vscode" || p.Users.RemoteUser != "vscode" {
		t.Fatalf("users = %+v (the service user is the fallback container user)", p.Users)
	}
	if len(p.Features) != 1 || !strings.Contains(p.MetadataLabel, `"id":"./local"`) || strings.Contains(p.MetadataLabel, "runServices") {
		t.Fatalf("features %+v, label %s", p.Features, p.MetadataLabel)
	}
}

// A Compose service with image is pinned like an image config's base.
func TestComposeImagePlan(t *testing.T) {
	ws := newComposeWorkspace(t)
	write(t, filepath.Join(ws, ".devcontainer", "docker-compose.yml"), "services:\n  app:\n    image: devcache.test/base:${TAG:-ubuntu}\n")
	write(t, filepath.Join(ws, ".devcontainer", "docker-compose.extra.yml"), "services:\n  db:\n    image: postgres\n")
	r := newResolver(t, resolve.Options{})
	p := composePlan(t, ws, r, plan.Options{})
	if p.Base.Kind != devcontainer.KindCompose || p.Base.Dockerfile != nil || p.Base.Image == nil || p.Base.Image.Digest != digest("3") {
		t.Fatalf("base = %+v", p.Base)
	}
	if p.ImageUser != "vscode" || p.Users == nil || p.Users.ContainerUser != "vscode" {
		t.Fatalf("image user %q, users %+v", p.ImageUser, p.Users)
	}
	moved := *r.images["devcache.test/base:ubuntu"]
	moved.Digest, moved.ManifestDigest = digest("a"), digest("a")
	r.images["devcache.test/base:ubuntu"] = &moved
	if composePlan(t, ws, r, plan.Options{}).Key() == p.Key() {
		t.Error("the service image moved behind its tag but the key did not change")
	}
	if composePlan(t, ws, r, plan.Options{Environ: []string{"TAG=1"}}).Base.Image.Digest != digest("1") {
		t.Error("the client env does not interpolate the image")
	}
}

// TestComposeKeyMatrix: what reaches the image changes the key; other
// services, ports, volumes, runServices, the service's runtime environment
// and YAML formatting do not.
func TestComposeKeyMatrix(t *testing.T) {
	r := newResolver(t, resolve.Options{})
	baseline := composePlan(t, newComposeWorkspace(t), r, plan.Options{})
	dc := func(ws, f string) string { return filepath.Join(ws, ".devcontainer", f) }
	for _, c := range []struct {
		name   string
		miss   bool
		mutate func(t *testing.T, ws string, o *plan.Options)
	}{
		{"dockerfile text", true, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "Dockerfile"), "echo prod", "echo production")
		}},
		{"context file", true, func(t *testing.T, ws string, _ *plan.Options) {
			write(t, filepath.Join(ws, "src", "main.go"), "package main // v2\n")
		}},
		{"compose build arg", true, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.yml"), "${GREETING:-hi}", "${GREETING:-hello}")
		}},
		{".env value", true, func(t *testing.T, ws string, _ *plan.Options) { write(t, dc(ws, ".env"), "FLAVOR=hot\n") }},
		{"client env", true, func(t *testing.T, ws string, o *plan.Options) { o.Environ = []string{"GREETING=hey"} }},
		{"second compose file", true, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.extra.yml"), "EXTRA: one", "EXTRA: two")
		}},
		{"compose target", true, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.yml"), "target: dev", "target: prod")
		}},
		{"service user", true, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.yml"), "user: vscode", "user: node")
		}},

		{"other service", false, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.yml"), "postgres:16", "postgres:17")
		}},
		{"ports, volumes, environment", false, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.yml"), `"8080:80"`, `"9090:80"`)
			edit(t, dc(ws, "docker-compose.yml"), ":cached", ":delegated")
			edit(t, dc(ws, "docker-compose.yml"), `RUNTIME_ONLY: "1"`, `RUNTIME_ONLY: "2"`)
		}},
		{"runServices", false, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "devcontainer.json"), `["app", "db"]`, `["app"]`)
		}},
		{"yaml comments and formatting", false, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.yml"), "# the dev service and a database\n", "")
			edit(t, dc(ws, "docker-compose.extra.yml"), "args:\n        EXTRA: one", "args: {EXTRA: \"one\"} # inline")
		}},
		{"service name", false, func(t *testing.T, ws string, _ *plan.Options) {
			edit(t, dc(ws, "docker-compose.yml"), "  app:", "  dev:")
			edit(t, dc(ws, "docker-compose.extra.yml"), "  app:", "  dev:")
			edit(t, dc(ws, "devcontainer.json"), `"service": "app"`, `"service": "dev"`)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := newComposeWorkspace(t)
			o := plan.Options{}
			c.mutate(t, ws, &o)
			got := composePlan(t, ws, r, o)
			switch {
			case c.miss && got.Key() == baseline.Key():
				t.Errorf("the key did not change (a stale hit)")
			case !c.miss && got.Key() != baseline.Key():
				t.Errorf("the key changed (a needless miss):\n%s", lineDiff(string(baseline.JSON()), string(got.JSON())))
			}
		})
	}
}

// Errors name the config field and the Compose file or service.
func TestComposePlanErrors(t *testing.T) {
	r := newResolver(t, resolve.Options{})
	for _, c := range []struct {
		name, file, body string
		want             []string
	}{
		{"unknown service", "docker-compose.yml", "services:\n  other:\n    image: x\n", []string{"devcontainer.json:3: dockerComposeFile:", "Service 'app' configured in devcontainer.json not found in Docker Compose configuration"}},
		{"missing Dockerfile", "docker-compose.yml", "services:\n  app:\n    build: {context: ., dockerfile: Nope}\n", []string{`service "app": build.dockerfile: Dockerfile (`, "Nope) not found."}},
		{"invalid YAML", "docker-compose.yml", "services:\n  app:\n    image: [unclosed\n", []string{"devcontainer.json:3: dockerComposeFile:", ".devcontainer/docker-compose.yml: invalid YAML:", "line 3"}},
		{"missing Compose file", "unused.yml", "", []string{"devcontainer.json:3: dockerComposeFile: Compose file ", ".devcontainer/docker-compose.yml not found"}},
		{"additional_contexts of a service", "docker-compose.yml", "services:\n  app:\n    build:\n      context: .\n      additional_contexts: {x: \"service:db\"}\n  db:\n    build: .\n", []string{`service "app": build: additional_contexts.x: service:db: another service's image`}},
		{"additional_contexts URL", "docker-compose.yml", "services:\n  app:\n    build:\n      context: .\n      additional_contexts: {x: \"https://example.com/x.git\"}\n", []string{"additional_contexts.x: https://example.com/x.git: only local directories and docker-image:// references are supported"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := newComposeWorkspace(t)
			write(t, filepath.Join(ws, ".devcontainer", c.file), c.body)
			if c.file == "unused.yml" {
				os.Remove(filepath.Join(ws, ".devcontainer", "docker-compose.yml"))
			}
			os.Remove(filepath.Join(ws, ".devcontainer", "docker-compose.extra.yml"))
			write(t, filepath.Join(ws, ".devcontainer", "docker-compose.extra.yml"), "services: {}\n")
			_, err := planFor(t, ws, r, plan.Options{Environ: []string{}})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestComposeAdditionalContexts: a service's additional_contexts are the
// build's named contexts: a directory's files the Dockerfile reads (and
// only those) in its digest, a docker-image:// context pinned with the
// Dockerfile's images (and the base, when a FROM names it); the names are
// no images to resolve.
func TestComposeAdditionalContexts(t *testing.T) {
	r := newResolver(t, resolve.Options{})
	setup := func(t *testing.T) string {
		ws := newComposeWorkspace(t)
		write(t, filepath.Join(ws, ".devcontainer", "docker-compose.yml"), "services:\n  app:\n    build:\n      context: ..\n      dockerfile: .devcontainer/Dockerfile\n"+
			"      additional_contexts:\n        shared: ../shared\n        base: docker-image://devcache.test/base:1\n        unread: ../unread\n")
		write(t, filepath.Join(ws, ".devcontainer", "Dockerfile"), "FROM base\nCOPY --from=shared lib/ /lib/\nCOPY src/ /src/\n")
		write(t, filepath.Join(ws, "shared", "lib", "a.sh"), "echo a\n")
		write(t, filepath.Join(ws, "shared", "other.txt"), "not read\n")
		write(t, filepath.Join(ws, "unread", "x"), "x\n")
		return ws
	}
	p := composePlan(t, setup(t), r, plan.Options{})
	df := p.Base.Dockerfile
	if len(df.Contexts) != 3 {
		t.Fatalf("contexts = %+v", df.Contexts)
	}
	base, shared, unread := df.Contexts[0], df.Contexts[1], df.Contexts[2]
	if base.Name != "base" || base.Image != "devcache.test/base:1" || base.Path != "" ||
		shared.Name != "shared" || shared.Path != "shared" || !strings.HasPrefix(shared.ContextDigest, "sha256:") ||
		unread.Path != "unread" || unread.ContextDigest != "" {
		t.Fatalf("contexts = %+v", df.Contexts)
	}
	if len(df.Images) != 1 || df.Images[0] != (plan.ImagePin{Ref: "devcache.test/base:1", Digest: digest("1")}) {
		t.Fatalf("images = %+v (the context names are no images)", df.Images)
	}
	if p.Base.Image == nil || p.Base.Image.Digest != digest("1") {
		t.Fatalf("base image = %+v: FROM base is the docker-image context", p.Base.Image)
	}
	for _, c := range []struct {
		name   string
		miss   bool
		mutate func(ws string)
	}{
		{"a file the build reads from the context", true, func(ws string) { write(t, filepath.Join(ws, "shared", "lib", "a.sh"), "echo b\n") }},
		{"a file the build does not read", false, func(ws string) { write(t, filepath.Join(ws, "shared", "other.txt"), "changed\n") }},
		{"an unread context", false, func(ws string) { write(t, filepath.Join(ws, "unread", "x"), "y\n") }},
		{"the context image moved", true, func(string) {
			orig := r.images["devcache.test/base:1"]
			moved := *orig
			moved.Digest = digest("b")
			r.images["devcache.test/base:1"] = &moved
			t.Cleanup(func() { r.images["devcache.test/base:1"] = orig })
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := setup(t)
			c.mutate(ws)
			if got := composePlan(t, ws, r, plan.Options{}); (got.Key() != p.Key()) != c.miss {
				t.Errorf("key changed: %v, want %v:\n%s", got.Key() != p.Key(), c.miss, lineDiff(string(p.JSON()), string(got.JSON())))
			}
		})
	}
}

// TestComposeEmptyFileList: `dockerComposeFile: []` finds its files as the
// reference 0.89.0 does: COMPOSE_FILE of the environment, else of the
// workspace's .env (which is then the env file interpolation reads, as
// the reference's --env-file), else the workspace's docker-compose.yml and
// docker-compose.override.yml.
func TestComposeEmptyFileList(t *testing.T) {
	r := newResolver(t, resolve.Options{})
	svc := func(tag string) string { return "services:\n  app:\n    image: devcache.test/base:" + tag + "\n" }
	for _, c := range []struct {
		name    string
		files   map[string]string
		environ []string
		want    string // the image's digest
	}{
		{"docker-compose.yml", map[string]string{"docker-compose.yml": svc("1")}, nil, digest("1")},
		{"with its override", map[string]string{"docker-compose.yml": svc("1"), "docker-compose.override.yml": svc("ubuntu")}, nil, digest("3")},
		{"COMPOSE_FILE of the environment", map[string]string{"docker-compose.yml": svc("1"), "compose/a.yml": svc("1"), "compose/b.yml": svc("ubuntu")},
			[]string{"COMPOSE_FILE=compose/a.yml:compose/b.yml"}, digest("3")},
		{"COMPOSE_FILE of the workspace .env, which interpolates", map[string]string{"docker-compose.yml": svc("1"), ".env": "COMPOSE_FILE=compose/a.yml\nTAG=ubuntu\n",
			"compose/a.yml": "services:\n  app:\n    image: devcache.test/base:${TAG:-1}\n", "compose/.env": "TAG=1\n"}, nil, digest("3")},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := t.TempDir()
			write(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"dockerComposeFile": [], "service": "app"}`)
			for f, body := range c.files {
				write(t, filepath.Join(ws, filepath.FromSlash(f)), body)
			}
			p := composePlan(t, ws, r, plan.Options{Environ: c.environ})
			if p.Base.Image == nil || p.Base.Image.Digest != c.want {
				t.Errorf("base image = %+v, want digest %s", p.Base.Image, c.want)
			}
		})
	}
	ws := t.TempDir()
	write(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"dockerComposeFile": [], "service": "app"}`)
	if _, err := planFor(t, ws, r, plan.Options{Environ: []string{}}); err == nil || !strings.Contains(err.Error(), filepath.ToSlash(filepath.Join(ws, "docker-compose.yml"))+" not found") {
		t.Errorf("no Compose file: %v", err)
	}
}

// TestComposeExtendsFileKey: what an extended Compose file gives the
// service (an arg) is in the key; its other services are not.
func TestComposeExtendsFileKey(t *testing.T) {
	r := newResolver(t, resolve.Options{})
	setup := func(t *testing.T, base string) string {
		ws := newComposeWorkspace(t)
		write(t, filepath.Join(ws, ".devcontainer", "docker-compose.yml"), "services:\n  app:\n    extends: {file: ../compose/base.yml, service: base}\n")
		write(t, filepath.Join(ws, "compose", "base.yml"), base)
		return ws
	}
	const base = "services:\n  base:\n    build:\n      context: ..\n      dockerfile: .devcontainer/Dockerfile\n      args: {GREETING: one}\n  other:\n    image: postgres:16\n"
	p := composePlan(t, setup(t, base), r, plan.Options{})
	if args := p.Base.Dockerfile.Args; !slices.ContainsFunc(args, func(e devcontainer.EnvVar) bool { return e == devcontainer.EnvVar{Name: "GREETING", Value: "one"} }) {
		t.Fatalf("args = %+v", args)
	}
	if composePlan(t, setup(t, strings.Replace(base, "GREETING: one", "GREETING: two", 1)), r, plan.Options{}).Key() == p.Key() {
		t.Error("an arg of the extended file changed but the key did not")
	}
	if composePlan(t, setup(t, strings.Replace(base, "postgres:16", "postgres:17", 1)), r, plan.Options{}).Key() != p.Key() {
		t.Error("another service of the extended file changed the key")
	}
}
