package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// composeWorkspace is a Compose config whose service app is built from a
// Dockerfile (target dev, a build arg from the project's .env, another
// from a second Compose file), next to a database service, with a local
// feature that records the _CONTAINER_USER it was given.
func composeWorkspace(t *testing.T, base, nonce string) string {
	return writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{
  // A Compose config built by the plugin.
  "dockerComposeFile": ["docker-compose.yml", "docker-compose.more.yml"],
  "service": "app",
  "runServices": ["app", "db"],
  "features": {"./rec": {}}
}
`,
		".devcontainer/docker-compose.yml": `services:
  app:
    build:
      context: ..
      dockerfile: .devcontainer/Dockerfile
      target: dev
      args:
        FLAVOR: ${FLAVOR:-plain}
    user: nobody
    volumes: ["..:/workspace"]
  db:
    image: postgres:16
`,
		".devcontainer/docker-compose.more.yml": "services:\n  app:\n    build:\n      args:\n        NONCE: \"" + nonce + "\"\n",
		".devcontainer/.env":                    "FLAVOR=from-dotenv\n",
		".devcontainer/Dockerfile": fmt.Sprintf(`FROM %s AS dev
ARG FLAVOR
ARG NONCE
COPY src/hello.txt /hello.txt
RUN echo "$FLAVOR $NONCE" > /flavor

FROM dev AS prod
RUN echo prod > /prod
`, base),
		".devcontainer/rec/devcontainer-feature.json": `{"id": "rec", "version": "1.0.0"}`,
		".devcontainer/rec/install.sh":                "#!/bin/sh\nset -e\necho \"$_CONTAINER_USER\" > /feature-user\n",
		"src/hello.txt":                               "hello " + nonce + "\n",
	})
}

// probeExit runs the plugin's probe in ws with env and args and returns
// its stdout, stderr and exit code.
func probeExit(t *testing.T, ws, repo string, env []string, args ...string) (string, string, int) {
	t.Helper()
	env = append([]string{"DOCKER_CONFIG=" + t.TempDir(), "XDG_CACHE_HOME=" + t.TempDir()}, env...)
	out, errOut, err := runErr(ws, env, pluginBinary(t), append([]string{"probe", "--cache-repo", repo}, args...)...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out, errOut, 0
	case errors.As(err, &ee):
		return out, errOut, ee.ExitCode()
	}
	t.Fatalf("probe: %v", err)
	return "", "", -1
}

// TestComposeBuildService: plan, probe (miss), push, probe (hit with the
// pushed digest) and build of a Compose config whose service has `build:`;
// the image is the service's target stage with the .env and second-file
// args, the feature on top ran with the service user as _CONTAINER_USER.
func TestComposeBuildService(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := composeWorkspace(t, s.Ref("busybox:latest"), nonce)
	repo := s.Ref("e2e/compose-build")

	planOut, _ := devcache(t, ws, s.BuildkitAddr, nil, "plan", "--format", "json")
	for _, want := range []string{`"kind": "compose"`, `"path": ".devcontainer/Dockerfile"`, `"target": "dev"`, `"value": "from-dotenv"`, `"containerUser": "nobody"`} {
		if !strings.Contains(planOut, want) {
			t.Errorf("plan lacks %s:\n%s", want, planOut)
		}
	}
	if out, errOut, code := probeExit(t, ws, repo, nil); code != 1 {
		t.Fatalf("probe before push: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _ := devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	if got, errOut, code := probeExit(t, ws, repo, nil); code != 0 || got != "DEVCACHE_CACHED_IMAGE="+m[1]+"\n" {
		t.Fatalf("probe after push: exit %d, stdout %q (push: %s)\n%s", code, got, m[1], errOut)
	}
	files := imageFiles(t, m[1])
	want := map[string]string{"/flavor": "from-dotenv " + nonce + "\n", "/hello.txt": "hello " + nonce + "\n", "/feature-user": "nobody\n"}
	for f, content := range want {
		if files[f] != content {
			t.Errorf("%s = %q, want %q", f, files[f], content)
		}
	}
	if _, ok := files["/prod"]; ok {
		t.Error("the image has /prod: the service's target was not honoured")
	}
	cfg, _ := imageConfig(t, m[1])
	if !strings.Contains(cfg.Config.Labels["devcontainer.metadata"], `"id":"./rec"`) {
		t.Errorf("metadata label = %q", cfg.Config.Labels["devcontainer.metadata"])
	}
	// The client env wins over .env: another key, a miss.
	if _, errOut, code := probeExit(t, ws, repo, []string{"FLAVOR=from-env"}); code != 1 {
		t.Errorf("probe with FLAVOR in the env: exit %d, want a miss\n%s", code, errOut)
	}
	devcache(t, ws, s.BuildkitAddr, nil, "build", "--cache-repo", repo, "-o", "type=oci,dest="+filepath.Join(t.TempDir(), "image.tar"), "--progress", "quiet")
}

// TestComposeImageService: a Compose service with `image:` (interpolated
// from the client env) is pinned and built on like an image config's base.
func TestComposeImageService(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json":             `{"dockerComposeFile": "../compose.yaml", "service": "dev", "features": {"./rec": {}}}`,
		"compose.yaml":                                "services:\n  dev:\n    image: ${BASE_IMAGE}\n    user: daemon\n  cache:\n    image: redis\n",
		".devcontainer/rec/devcontainer-feature.json": `{"id": "rec", "version": "1.0.0"}`,
		".devcontainer/rec/install.sh":                "#!/bin/sh\nset -e\necho \"$_CONTAINER_USER " + nonce + "\" > /feature-user\n",
	})
	env := []string{"BASE_IMAGE=" + s.Ref("busybox:latest")}
	repo := s.Ref("e2e/compose-image")
	planOut, _ := devcache(t, ws, s.BuildkitAddr, env, "plan", "--format", "json")
	if !strings.Contains(planOut, `"kind": "compose"`) || !strings.Contains(planOut, `"ref": "`+s.Ref("busybox:latest")+`"`) {
		t.Fatalf("plan:\n%s", planOut)
	}
	out, _ := devcache(t, ws, s.BuildkitAddr, env, "push", "--cache-repo", repo, "--progress", "quiet")
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	if got, errOut, code := probeExit(t, ws, repo, env); code != 0 || got != "DEVCACHE_CACHED_IMAGE="+m[1]+"\n" {
		t.Fatalf("probe after push: exit %d, stdout %q (push: %s)\n%s", code, got, m[1], errOut)
	}
	if got := imageFiles(t, m[1])["/feature-user"]; got != "daemon "+nonce+"\n" {
		t.Errorf("/feature-user = %q", got)
	}
	devcache(t, ws, s.BuildkitAddr, env, "build", "--cache-repo", repo, "-o", "type=oci,dest="+filepath.Join(t.TempDir(), "image.tar"), "--progress", "quiet")
}

// TestComposeLockWarmOffline: lock pins a Compose config's OCI feature;
// warm stores the service's Dockerfile base and the feature; with their
// registry gone, build --base-image-cache-dir builds the service and the
// feature from the warmed directory.
func TestComposeLockWarmOffline(t *testing.T) {
	s := stacktest.Get(t)
	src := resolvetest.StartRegistry(t) // the registry that goes away
	base := src.Host + "/base/busybox:1"
	from, _ := name.ParseReference(s.Ref("busybox:latest"))
	to, _ := name.ParseReference(base)
	img, err := remote.Image(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(to, img); err != nil {
		t.Fatal(err)
	}
	feat := writeWorkspace(t, map[string]string{
		"hello/devcontainer-feature.json": `{"id": "hello", "version": "1.0.0"}`,
		"hello/install.sh":                "#!/bin/sh\nset -e\necho \"hello $_CONTAINER_USER\" > /hello\n",
	})
	pub := src.PublishFeature(t, filepath.Join(feat, "hello"), "features/hello", nil, "1")
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{"dockerComposeFile": "compose.yml", "service": "dev", "features": {"` + pub.Ref + `": {}}}`,
		".devcontainer/compose.yml":       "services:\n  dev:\n    build: .\n    user: ${DEV_USER:-daemon}\n",
		".devcontainer/Dockerfile":        "FROM " + base + "\nRUN echo built > /built\n",
	})
	out, _ := devcache(t, ws, s.BuildkitAddr, nil, "lock")
	if lock := readFileT(t, filepath.Join(ws, ".devcontainer", "devcontainer-lock.json")); !strings.Contains(string(lock), pub.ManifestDigest) {
		t.Fatalf("lock (%s) wrote:\n%s", out, lock)
	}
	dir := filepath.Join(t.TempDir(), "warm")
	devcache(t, ws, s.BuildkitAddr, nil, "warm", "--dir", dir)

	src.Close()
	ref := s.Ref("e2e/compose-offline:1")
	out, errOut := devcache(t, ws, s.BuildkitAddr, nil, "build", "--base-image-cache-dir", dir, "--push", "-t", ref, "--progress", "plain")
	if !strings.Contains(out, s.Ref("e2e/compose-offline")+"@sha256:") {
		t.Errorf("build printed %q", out)
	}
	if strings.Contains(errOut, src.Host) && strings.Contains(errOut, "connection refused") {
		t.Errorf("the build tried the stopped registry:\n%s", lastLines(errOut, 30))
	}
	files := imageFiles(t, ref)
	if files["/built"] != "built\n" || files["/hello"] != "hello daemon\n" {
		t.Errorf("/built = %q, /hello = %q", files["/built"], files["/hello"])
	}
}

// contextsWorkspace is a Compose config whose service's additional_contexts
// are a directory inside the workspace with its own .dockerignore, one
// outside it (the second return value) and a docker-image:// base; line 1
// is syntax (for the // syntax= route) when not "".
func contextsWorkspace(t *testing.T, s *stack.Stack, syntax string) (string, string) {
	nonce := fmt.Sprint(time.Now().UnixNano())
	outside := writeWorkspace(t, map[string]string{"data.txt": "outside " + nonce + "\n"})
	if syntax != "" {
		syntax = "// syntax=" + syntax + "\n"
	}
	return writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": syntax + `{"dockerComposeFile": "docker-compose.yml", "service": "app"}`,
		".devcontainer/docker-compose.yml": "services:\n  app:\n    build:\n      context: ../app\n      additional_contexts:\n" +
			"        shared: ../shared\n        outside: " + outside + "\n        base: docker-image://" + s.Ref("busybox:latest") + "\n",
		"app/Dockerfile":        "FROM base\nCOPY --from=shared lib/ /lib/\nCOPY --from=outside data.txt /data.txt\nCOPY main.txt /main.txt\n",
		"app/main.txt":          "main " + nonce + "\n",
		"shared/.dockerignore":  "lib/secret.txt\n",
		"shared/lib/a.sh":       "echo " + nonce + "\n",
		"shared/lib/secret.txt": "secret\n",
		"shared/not-copied.txt": "x\n",
	}), outside
}

// buildxContexts builds ws's service Dockerfile with plain `docker buildx
// build --build-context` (what Compose would pass) and returns its files.
func buildxContexts(t *testing.T, s *stack.Stack, env []string, ws, outside, tag string) map[string]string {
	ref := s.Ref("e2e/compose-contexts:" + tag)
	run(t, ws, env, "docker", "buildx", "build", "-f", "app/Dockerfile", "--build-context", "shared=shared", "--build-context", "outside="+outside,
		"--build-context", "base=docker-image://"+s.Ref("busybox:latest"), "--provenance=false", "--push", "-t", ref, "--progress", "plain", "app")
	want := imageFiles(t, ref)
	if want["/lib/a.sh"] == "" || want["/data.txt"] == "" || want["/main.txt"] == "" || want["/bin/busybox"] == "" {
		t.Fatalf("the reference build lacks files: %v", keys(want))
	}
	if _, ok := want["/lib/secret.txt"]; ok {
		t.Fatal("the reference build ignored shared/.dockerignore")
	}
	return want
}

// TestComposeAdditionalContexts: a service's additional_contexts (a
// directory inside the workspace with its own .dockerignore, one outside
// it, a docker-image:// base) build on the plugin route the same files as
// plain `docker buildx build --build-context` of the service's Dockerfile.
func TestComposeAdditionalContexts(t *testing.T) {
	s := stacktest.Get(t)
	env, _ := dockerEnv(t, s)
	ws, outside := contextsWorkspace(t, s, "")
	out, _ := devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", s.Ref("e2e/compose-contexts"), "--progress", "quiet")
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	want := buildxContexts(t, s, env, ws, outside, "buildx")
	if got := imageFiles(t, m[1]); !maps.Equal(got, want) {
		t.Errorf("plugin route: files differ from docker buildx build --build-context:\ngot  %v\nwant %v", keys(got), keys(want))
	}
}

// TestComposeAdditionalContextsThroughBuildx: the same on the // syntax=
// route (the frontend image through docker buildx build, the outside
// directory passed with --build-context); without it the error names the
// entry and the flag.
func TestComposeAdditionalContextsThroughBuildx(t *testing.T) {
	s := stacktest.Get(t)
	env, _ := dockerEnv(t, s)
	ws, outside := contextsWorkspace(t, s, frontendImage(t, s))
	ref := s.Ref("e2e/compose-contexts:syntax")
	run(t, ws, env, "docker", "buildx", "build", "-f", ".devcontainer/devcontainer.json", "--build-context", "outside="+outside,
		"--provenance=false", "--push", "-t", ref, "--progress", "plain", ".")
	want := buildxContexts(t, s, env, ws, outside, "buildx-syntax")
	if got := imageFiles(t, ref); !maps.Equal(got, want) {
		t.Errorf("// syntax= route: files differ from docker buildx build --build-context:\ngot  %v\nwant %v", keys(got), keys(want))
	}
	_, errOut, err := runErr(ws, env, "docker", "buildx", "build", "-f", ".devcontainer/devcontainer.json", "--progress", "plain", ".")
	if err == nil || !strings.Contains(errOut, "additional_contexts.outside: "+filepath.ToSlash(outside)) || !strings.Contains(errOut, "--build-context outside=") {
		t.Errorf("// syntax= route without --build-context outside: err %v\n%s", err, lastLines(errOut, 20))
	}
}

func keys(m map[string]string) []string {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}

// TestComposeExample runs the README's Compose commands (push, then
// probe) on examples/compose, which hack/demo pushes and probes, with the
// stack's registry in DEVCACHE_REGISTRY as hack/demo sets it.
func TestComposeExample(t *testing.T) {
	s := stacktest.Get(t)
	ws := t.TempDir()
	src := filepath.Join(moduleRoot(t), "examples", "compose")
	env := []string{"APP_ENV=from-shell", "DEVCACHE_REGISTRY=" + strings.TrimSuffix(s.Ref("x"), "/x")}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(ws, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	repo := s.Ref("examples/compose-cache")
	out, _ := devcache(t, ws, s.BuildkitAddr, env, "push", "--cache-repo", repo, "--progress", "quiet")
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	if got, errOut, code := probeExit(t, ws, repo, env); code != 0 || got != "DEVCACHE_CACHED_IMAGE="+m[1]+"\n" {
		t.Fatalf("probe: exit %d, %q\n%s", code, got, errOut)
	}
	files := imageFiles(t, m[1])
	if files["/app/env"] != "development\n" || files["/app/run.sh"] == "" || !strings.Contains(files["/usr/local/bin/hello"], "Hello from a Compose service") {
		t.Errorf("image: /app/env %q, /app/run.sh %q, hello %q", files["/app/env"], files["/app/run.sh"], files["/usr/local/bin/hello"])
	}
}
