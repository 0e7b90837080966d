package frontend

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

const helloFeature = `{"id": "hello", "version": "1.0.0",
  "options": {"greeting": {"type": "string", "default": "hey"}, "loud": {"type": "boolean", "default": false}, "nodefault": {"type": "string"}},
  "containerEnv": {"PATH": "/opt/hello/bin:${PATH}", "HELLO_HOME": "/opt/hello"},
  "init": true}`

const helloInstall = `#!/bin/sh
set -e
mkdir -p /opt/hello/bin
echo "greeting=$GREETING loud=$LOUD extra=$EXTRA nodefault=${NODEFAULT-unset} remote=$_REMOTE_USER home=$_REMOTE_USER_HOME" > /opt/hello/out
`

const worldFeature = `{"id": "world", "version": "2.0.0", "installsAfter": ["./hello"], "privileged": true}`

const worldInstall = `#!/bin/sh
set -e
mkdir -p /opt
echo "world sees PATH=$PATH HELLO_HOME=$HELLO_HOME" > /opt/world
`

// TestImageConfigWithLocalFeatures builds an image config with two local
// features (options of every kind, containerEnv extending PATH, an
// installsAfter edge) and checks the image the reference would make: one
// layer per feature plus the built-in env file, the env, the restored user,
// the label, the files the features wrote and the built-in env file.
func TestImageConfigWithLocalFeatures(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{
  // world is listed first but installs after hello.
  "image": "` + s.Ref("busybox:latest") + `",
  "features": {
    "./world": {},
    "./hello": {"greeting": "hi there", "loud": true, "extra": "x y"},
  },
  "containerEnv": {"LIT": "a $b \"c\" \\d  e", "P2": "/x:${containerEnv:PATH}"},
  "remoteUser": "root",
}`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
		".devcontainer/world/devcontainer-feature.json": worldFeature,
		".devcontainer/world/install.sh":                worldInstall,
	})
	ref := s.Ref("frontend/local-features:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	_, _, baseLayers := image(t, s.Ref("busybox:latest"))
	cfg, files, layers := image(t, ref)

	if got, want := layers, baseLayers+2+2; got != want {
		t.Errorf("%d layers, want %d (base + built-in env + homes + one per feature)", got, want)
	}
	if cfg.Config.User != "root" {
		t.Errorf("User = %q, want root (the base's user, written explicitly)", cfg.Config.User)
	}
	wantEnv := []string{
		"PATH=/opt/hello/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HELLO_HOME=/opt/hello",
		`LIT=a $b "c" \d  e`,
		"P2=/x:/opt/hello/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	}
	if !slices.Equal(cfg.Config.Env, wantEnv) {
		t.Errorf("Env =\n%q\nwant\n%q", cfg.Config.Env, wantEnv)
	}
	wantLabel := `[ {"id":"./hello","init":true}, {"id":"./world","privileged":true}, {"containerEnv":{"LIT":"a $b \"c\" \\d  e","P2":"/x:${containerEnv:PATH}"},"remoteUser":"root"} ]`
	if got := cfg.Config.Labels["devcontainer.metadata"]; got != wantLabel {
		t.Errorf("label =\n%s\nwant\n%s", got, wantLabel)
	}
	if got, want := files["/opt/hello/out"], "greeting=hi there loud=true extra=x y nodefault=unset remote=root home=/root\n"; got != want {
		t.Errorf("/opt/hello/out = %q, want %q", got, want)
	}
	if got := files["/opt/world"]; !strings.Contains(got, "PATH=/opt/hello/bin:") || !strings.Contains(got, "HELLO_HOME=/opt/hello") {
		t.Errorf("/opt/world = %q: the second feature must see the first one's containerEnv", got)
	}
	wantBuiltin := "_CONTAINER_USER=root\n_REMOTE_USER=root\n_CONTAINER_USER_HOME=/root\n_REMOTE_USER_HOME=/root\n"
	if got := files["/tmp/dev-container-features/devcontainer-features.builtin.env"]; got != wantBuiltin {
		t.Errorf("builtin env = %q, want %q", got, wantBuiltin)
	}
	for p := range files {
		if strings.HasPrefix(p, "/tmp/dev-container-features/") && p != "/tmp/dev-container-features/" && p != "/tmp/dev-container-features/devcontainer-features.builtin.env" {
			t.Errorf("%s left in the image: staging folders must be removed", p)
		}
	}
}

// TestRebuildIsCachedAndEditsRerunOnlyTheirFeature builds a config twice
// (the second build runs no exec step), then edits the last feature and
// checks that only that feature's step runs.
func TestRebuildIsCachedAndEditsRerunOnlyTheirFeature(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `",
  "features": {"./hello": {}, "./world": {}}}`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
		".devcontainer/world/devcontainer-feature.json": worldFeature,
		".devcontainer/world/install.sh":                worldInstall,
	})
	ref := s.Ref("frontend/cached:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	res, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ran := res.execsRun(); len(ran) > 0 {
		t.Errorf("second build ran %q, want everything cached", ran)
	}
	if err := os.WriteFile(filepath.Join(ws, ".devcontainer/world/install.sh"), []byte(worldInstall+"echo edited >> /opt/world\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err = build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := res.execsRun()
	if len(ran) != 1 || !strings.Contains(ran[0], "install feature ./world") {
		t.Errorf("after editing ./world, ran %q; want only ./world's install", ran)
	}
}

// TestDockerfileConfigWithFeature builds a Dockerfile config whose context
// is the workspace (".."), with build args, a target and a .dockerignore,
// and a feature on top.
func TestDockerfileConfigWithFeature(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{
  "build": {"dockerfile": "Dockerfile", "context": "..", "args": {"GREETING": "hello"}, "target": "dev"},
  "features": {"./hello": "ignored-string-no-version-option"},
  "containerUser": "root", "remoteUser": "app",
}`,
		".devcontainer/Dockerfile": `FROM ` + s.Ref("busybox:latest") + ` AS dev
ARG GREETING
COPY app.txt /app.txt
COPY . /ctx/
RUN echo "$GREETING" > /greeting
ENV FROM_DOCKERFILE=1
FROM dev AS other
RUN false
`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
		"app.txt":                                       "app\n",
		"secret.txt":                                    "secret\n",
		".dockerignore":                                 "secret.txt\n",
	})
	ref := s.Ref("frontend/dockerfile:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	cfg, files, _ := image(t, ref)
	if files["/app.txt"] != "app\n" || files["/greeting"] != "hello\n" {
		t.Errorf("Dockerfile steps missing: app.txt=%q greeting=%q", files["/app.txt"], files["/greeting"])
	}
	if _, ok := files["/ctx/secret.txt"]; ok {
		t.Error("secret.txt was sent despite .dockerignore")
	}
	if _, ok := files["/ctx/app.txt"]; !ok {
		t.Error("the build context is not the workspace")
	}
	if !strings.Contains(files["/opt/hello/out"], "greeting=hey ") {
		t.Errorf("feature output %q: a string value without a version option means defaults", files["/opt/hello/out"])
	}
	if !strings.Contains(files["/opt/hello/out"], "remote=app ") {
		t.Errorf("feature output %q: _REMOTE_USER must be remoteUser", files["/opt/hello/out"])
	}
	if !slices.Contains(cfg.Config.Env, "FROM_DOCKERFILE=1") {
		t.Errorf("Env %q lacks the Dockerfile's ENV", cfg.Config.Env)
	}
}

// TestDockerfileIgnoreFile: as BuildKit does, .devcontainer/Dockerfile's
// own Dockerfile.dockerignore applies instead of the context's .dockerignore.
func TestDockerfileIgnoreFile(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":       `{"build": {"dockerfile": "Dockerfile", "context": ".."}}`,
		".devcontainer/Dockerfile":              "FROM " + s.Ref("busybox:latest") + "\nCOPY . /ctx/\n",
		".devcontainer/Dockerfile.dockerignore": "b.txt\n",
		".dockerignore":                         "a.txt\n",
		"a.txt":                                 "a\n",
		"b.txt":                                 "b\n",
	})
	ref := s.Ref("frontend/dockerignore:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	_, files, _ := image(t, ref)
	if _, ok := files["/ctx/a.txt"]; !ok {
		t.Error("a.txt is missing: the context's .dockerignore applied although Dockerfile.dockerignore exists")
	}
	if _, ok := files["/ctx/b.txt"]; ok {
		t.Error("b.txt was sent despite Dockerfile.dockerignore")
	}
}

// TestOCIAndTarballFeatures builds features published to a registry (as
// `devcontainer features publish` does) and served as a tarball over https.
// The tarball is downloaded by buildkitd (which trusts the server, see
// TestMain), never by the frontend process's own HTTP client.
func TestOCIAndTarballFeatures(t *testing.T) {
	s := stacktest.Get(t)
	reg := resolvetest.StartRegistry(t)
	files := resolvetest.StartFiles(t)
	refuseOwnHTTP(t)

	src := writeTree(t, map[string]string{
		"hello/devcontainer-feature.json": helloFeature,
		"hello/install.sh":                helloInstall,
		"world/devcontainer-feature.json": `{"id": "world", "version": "2.0.0"}`,
		"world/install.sh":                worldInstall,
	})
	pub := reg.PublishFeature(t, filepath.Join(src, "hello"), "features/hello", nil, "1", "1.0.0")
	files.Put("/v2/devcontainer-feature-world.tgz", resolvetest.FeatureTar(t, filepath.Join(src, "world")))

	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `",
  "features": {"` + pub.Ref + `": {"greeting": "from oci"}, "` + files.URL + `/v2/devcontainer-feature-world.tgz": {}}}`,
	})
	ref := s.Ref("frontend/remote-features:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	_, fs, _ := image(t, ref)
	if !strings.HasPrefix(fs["/opt/hello/out"], "greeting=from oci ") {
		t.Errorf("OCI feature output %q", fs["/opt/hello/out"])
	}
	if !strings.HasPrefix(fs["/opt/world"], "world sees PATH=") {
		t.Errorf("tarball feature output %q", fs["/opt/world"])
	}
}

// TestErrorsNameFileFieldOrFeature checks the errors of bad input.
func TestErrorsNameFileFieldOrFeature(t *testing.T) {
	s := stacktest.Get(t)
	base := s.Ref("busybox:latest")
	cases := []struct {
		name  string
		files map[string]string
		want  []string
		// vertex names a step that must be the one that failed, and logs
		// what its output must say.
		vertex, logs string
	}{
		{"malformed", map[string]string{".devcontainer/devcontainer.json": "{\n  \"image\": \"x\"\n  \"features\": {}\n}"},
			[]string{"devcontainer.json:3"}, "", ""},
		{"missing-local-feature", map[string]string{".devcontainer/devcontainer.json": `{"image": "` + base + `", "features": {"./nope": {}}}`},
			[]string{"./nope"}, "", ""},
		{"missing-dockerfile", map[string]string{".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Nope.Dockerfile"}}`},
			[]string{"Nope.Dockerfile"}, "", ""},
		{"context-escapes", map[string]string{
			".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile", "context": "../.."}}`,
			".devcontainer/Dockerfile":        "FROM " + base + "\n",
		}, []string{"build.context", "outside the build context"}, "", ""},
		{"compose-unknown-service", map[string]string{
			".devcontainer/devcontainer.json":  `{"dockerComposeFile": "docker-compose.yml", "service": "app"}`,
			".devcontainer/docker-compose.yml": "services:\n  other:\n    image: " + base + "\n",
		}, []string{"devcontainer.json:1: dockerComposeFile:", "Service 'app' configured in devcontainer.json not found in Docker Compose configuration"}, "", ""},
		{"unreachable-oci-feature", map[string]string{".devcontainer/devcontainer.json": `{"image": "` + base + `", "features": {"localhost:1/nope/feature:1": {}}}`},
			[]string{"localhost:1/nope/feature:1"}, "", ""},
		{"feature-fails", map[string]string{
			".devcontainer/devcontainer.json":             `{"image": "` + base + `", "features": {"./bad": {}}}`,
			".devcontainer/bad/devcontainer-feature.json": `{"id": "bad", "version": "1.0.0", "name": "Bad feature"}`,
			".devcontainer/bad/install.sh":                "#!/bin/sh\necho going to fail\nexit 3\n",
		}, []string{`feature "./bad" failed to install`, "exit code: 3"}, "[devcontainer] install feature ./bad", `ERROR: Feature "Bad feature" (Unknown) failed to install!`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := writeTree(t, c.files)
			res, err := build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/errors:"+c.name), nil)
			if err == nil {
				t.Fatal("build succeeded, want an error")
			}
			if c.vertex != "" {
				if v, ok := res.vertexes[c.vertex]; !ok || v.Error == "" {
					t.Errorf("step %q did not fail (the failure must be shown on the feature's own step)", c.vertex)
				}
				if !strings.Contains(res.logs, c.logs) {
					t.Errorf("logs lack %q:\n%s", c.logs, res.logs)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// refuseOwnHTTP makes the frontend process's own HTTP client fail for the
// test, so a tarball feature that resolves was fetched through the daemon.
func refuseOwnHTTP(t *testing.T) {
	saved := remoteOptions
	remoteOptions = func() resolve.Options {
		o := saved()
		o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("the frontend must not fetch %s itself", r.URL)
		})}
		return o
	}
	t.Cleanup(func() { remoteOptions = saved })
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
