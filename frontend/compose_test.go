package frontend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
)

// TestComposeConfigs: the frontend computes and builds a Compose config's
// Plan itself (the // syntax= route): a service built from a Dockerfile in
// another folder with its target and args from .env and from a build arg
// (the client's variable), a local feature given the service user; and a
// service with an image.
func TestComposeConfigs(t *testing.T) {
	s := stacktest.Get(t)
	base := s.Ref("busybox:latest")
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{
  "dockerComposeFile": ["../compose/docker-compose.yml", "docker-compose.extra.yml"],
  "service": "app",
  "features": {"./rec": {}}
}`,
		"compose/docker-compose.yml": `services:
  app:
    build:
      context: ../src
      target: dev
      args:
        FLAVOR: ${FLAVOR:-plain}
        GREETING: ${GREETING:-hi}
    user: nobody
  db:
    image: postgres:16
`,
		"compose/.env":                                "FLAVOR=from-dotenv\nGREETING=dotenv-loses\n",
		".devcontainer/docker-compose.extra.yml":      "services:\n  app:\n    build:\n      args: {EXTRA: more}\n",
		"src/Dockerfile":                              "FROM " + base + " AS dev\nARG FLAVOR\nARG GREETING\nARG EXTRA\nCOPY hello.txt /hello.txt\nRUN echo \"$FLAVOR $GREETING $EXTRA\" > /flavor\nFROM dev AS prod\nRUN echo prod > /prod\n",
		"src/hello.txt":                               "hello\n",
		".devcontainer/rec/devcontainer-feature.json": `{"id": "rec", "version": "1.0.0"}`,
		".devcontainer/rec/install.sh":                "#!/bin/sh\nset -e\necho \"$_CONTAINER_USER\" > /feature-user\n",
	})
	ref := s.Ref("frontend/compose:build")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, map[string]string{"build-arg:GREETING": "from-arg"}); err != nil {
		t.Fatal(err)
	}
	cfg, files, _ := image(t, ref)
	want := map[string]string{"/flavor": "from-dotenv from-arg more\n", "/hello.txt": "hello\n", "/feature-user": "nobody\n"}
	for f, content := range want {
		if files[f] != content {
			t.Errorf("%s = %q, want %q", f, files[f], content)
		}
	}
	if _, ok := files["/prod"]; ok {
		t.Error("the service's target was not honoured")
	}
	if !strings.Contains(cfg.Config.Labels["devcontainer.metadata"], `"id":"./rec"`) {
		t.Errorf("label = %q", cfg.Config.Labels["devcontainer.metadata"])
	}

	ws = writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":             `{"dockerComposeFile": "docker-compose.yml", "service": "dev", "features": {"./rec": {}}}`,
		".devcontainer/docker-compose.yml":            "services:\n  dev:\n    image: ${BASE}\n    user: daemon\n",
		".devcontainer/rec/devcontainer-feature.json": `{"id": "rec", "version": "1.0.0"}`,
		".devcontainer/rec/install.sh":                "#!/bin/sh\nset -e\necho \"$_CONTAINER_USER\" > /feature-user\n",
	})
	ref = s.Ref("frontend/compose:image")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, map[string]string{"build-arg:BASE": base}); err != nil {
		t.Fatal(err)
	}
	if _, files, _ := image(t, ref); files["/feature-user"] != "daemon\n" || files["/bin/busybox"] == "" {
		t.Errorf("image service: /feature-user = %q", files["/feature-user"])
	}
}

// TestComposePlansAgree: a Compose config's Plan (a service built with
// additional_contexts: a directory and a docker-image:// base) is the same
// on both routes; only the context digests, which only the client
// computes (for the main context as for named ones), are left out.
func TestComposePlansAgree(t *testing.T) {
	s := stacktest.Get(t)
	ctx := context.Background()
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":  `{"dockerComposeFile": "docker-compose.yml", "service": "app", "remoteUser": "root"}`,
		".devcontainer/docker-compose.yml": "services:\n  app:\n    build:\n      context: ../app\n      additional_contexts:\n        shared: ../shared\n        base: docker-image://" + s.Ref("busybox:latest") + "\n",
		"app/Dockerfile":                   "FROM base\nCOPY --from=shared lib/ /lib/\n",
		"shared/lib/a.sh":                  "echo a\n",
		"shared/lib/secret":                "secret\n",
		"shared/.dockerignore":             "lib/secret\n",
	})
	res, err := plan.ForWorkspace(ctx, ws, plan.Options{Resolver: resolve.New(resolve.Options{}), Platform: "linux/amd64", Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	df := res.Plan.Base.Dockerfile
	if len(df.Contexts) != 2 || df.Contexts[1].ContextDigest == "" || len(df.Images) != 1 {
		t.Fatalf("plugin Plan: contexts %+v, images %+v", df.Contexts, df.Images)
	}
	for i := range df.Contexts {
		df.Contexts[i].ContextDigest = ""
	}
	got := frontendPlan(t, s, ws, map[string]string{"platform": "linux/amd64"})
	if want, have := res.Plan.JSON(), got.JSON(); string(want) != string(have) {
		t.Errorf("the frontend's Plan differs from the plugin's:\nplugin:   %s\nfrontend: %s", want, have)
	}

	// The frontend builds it: the directory from the build context (minus
	// its own .dockerignore).
	ref := s.Ref("frontend/compose:contexts")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	if _, files, _ := image(t, ref); files["/lib/a.sh"] != "echo a\n" || files["/bin/busybox"] == "" || files["/lib/secret"] != "" {
		t.Errorf("/lib/a.sh = %q, /lib/secret = %q", files["/lib/a.sh"], files["/lib/secret"])
	}

	// A directory outside the build context: an error naming the entry,
	// or what the client passes as --build-context (buildx's form).
	outside := writeTree(t, map[string]string{"lib/a.sh": "echo outside\n"})
	compose := "services:\n  app:\n    build:\n      context: ../app\n      additional_contexts:\n        shared: " + outside + "\n        base: docker-image://" + s.Ref("busybox:latest") + "\n"
	if err := os.WriteFile(filepath.Join(ws, ".devcontainer", "docker-compose.yml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err == nil || !strings.Contains(err.Error(), "additional_contexts.shared: "+filepath.ToSlash(outside)+" is outside the build context; pass it with --build-context shared=") {
		t.Errorf("outside directory without --build-context: %v", err)
	}
	_, err = buildWith(t, s, ws, ".devcontainer/devcontainer.json", ref, map[string]string{"context:shared": "local:shared"}, func(o *client.SolveOpt) {
		fs, err := fsutil.NewFS(outside)
		if err != nil {
			t.Fatal(err)
		}
		o.LocalMounts["shared"] = fs
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, files, _ := image(t, ref); files["/lib/a.sh"] != "echo outside\n" {
		t.Errorf("with --build-context: /lib/a.sh = %q", files["/lib/a.sh"])
	}
}

// TestComposeExtendsFile: `extends` of another Compose file works on the
// // syntax= route (the file read from the build context, with a nested
// extends relative to it), and gives the plugin's Plan.
func TestComposeExtendsFile(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":  `{"dockerComposeFile": "docker-compose.yml", "service": "app"}`,
		".devcontainer/docker-compose.yml": "services:\n  app:\n    extends: {file: ../compose/base.yml, service: base}\n    build:\n      args: {OWN: own}\n",
		"compose/base.yml":                 "services:\n  base:\n    extends: {file: root/root.yml, service: root}\n    build:\n      args: {GREETING: from-base}\n",
		"compose/root/root.yml":            "services:\n  root:\n    build:\n      context: ../../src\n",
		"src/Dockerfile":                   "FROM " + s.Ref("busybox:latest") + "\nARG GREETING\nARG OWN\nRUN echo \"$GREETING $OWN\" > /greeting\n",
	})
	res, err := plan.ForWorkspace(context.Background(), ws, plan.Options{Resolver: resolve.New(resolve.Options{}), Platform: "linux/amd64", Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if df := res.Plan.Base.Dockerfile; df == nil || df.Context != "src" || len(df.Args) != 2 {
		t.Fatalf("plugin Plan: %s", res.Plan.JSON())
	}
	if got := frontendPlan(t, s, ws, map[string]string{"platform": "linux/amd64"}); string(got.JSON()) != string(res.Plan.JSON()) {
		t.Errorf("the frontend's Plan differs from the plugin's:\nplugin:   %s\nfrontend: %s", res.Plan.JSON(), got.JSON())
	}
	ref := s.Ref("frontend/compose:extends")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	if _, files, _ := image(t, ref); files["/greeting"] != "from-base own\n" {
		t.Errorf("/greeting = %q", files["/greeting"])
	}
}
