package plan_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
)

// keyFixture is a Dockerfile config with build args, a target, a
// .dockerignore, an OCI feature (with a lockfile variant) and a local
// feature: every input DESIGN.md says the key must or must not depend on.
type keyFixture struct {
	template string // the workspace every case starts from
	reg      *resolvetest.Registry
	feature  string                // the OCI feature reference as written (tag 1)
	orig     resolvetest.Published // what ns/feat:1 holds
	alt      resolvetest.Published
	cache    string
}

const keyConfig = `{
	// A config that exercises every key input.
	"build": {
		"dockerfile": "Dockerfile",
		"context": "..",
		"args": {"GREETING": "hi"},
		"target": "dev"
	},
	"features": {
		"FEATURE": {"flavor": "mild"},
		"./local": {}
	},
	"containerEnv": {"FOO": "bar"},
	"remoteUser": "root",
	"forwardPorts": [8080],
	"customizations": {"vscode": {"extensions": ["a.b"]}},
	"postCreateCommand": "echo created"
}
`

const keyDockerfile = `# syntax=devcache.test/docker/dockerfile:1
ARG TOOLS_TAG=1
FROM devcache.test/tools:${TOOLS_TAG} AS tools
FROM devcache.test/base:1 AS dev
ARG GREETING
COPY --from=tools /bin/tool /usr/local/bin/tool
COPY --from=devcache.test/extra:1 /extra /extra
COPY src/ /src/
RUN --mount=type=bind,source=tools/setup.sh,target=/setup.sh sh /setup.sh
RUN echo "$GREETING" > /greeting

FROM dev AS prod
RUN echo prod
`

func newKeyFixture(t *testing.T) *keyFixture {
	f := &keyFixture{reg: resolvetest.StartRegistry(t), cache: t.TempDir()}
	src := t.TempDir()
	write(t, filepath.Join(src, "feat", "devcontainer-feature.json"), `{"id":"feat","version":"1.0.0","options":{"flavor":{"type":"string","default":"plain"}}}`)
	write(t, filepath.Join(src, "feat", "install.sh"), "echo one\n")
	f.orig = f.reg.PublishFeature(t, filepath.Join(src, "feat"), "ns/feat", nil, "1")
	write(t, filepath.Join(src, "feat", "install.sh"), "echo other\n")
	f.alt = f.reg.PublishFeature(t, filepath.Join(src, "feat"), "ns/feat", nil, "alt")
	f.feature = f.reg.Host + "/ns/feat:1"

	ws := filepath.Join(t.TempDir(), "template")
	write(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), strings.Replace(keyConfig, "FEATURE", f.feature, 1))
	write(t, filepath.Join(ws, ".devcontainer", "Dockerfile"), keyDockerfile)
	write(t, filepath.Join(ws, ".devcontainer", "local", "devcontainer-feature.json"), `{"id":"local","version":"1.0.0"}`)
	write(t, filepath.Join(ws, ".devcontainer", "local", "install.sh"), "echo local\n")
	write(t, filepath.Join(ws, "src", "main.go"), "package main\n")
	write(t, filepath.Join(ws, "src", "debug.log"), "ignored\n")
	write(t, filepath.Join(ws, "tools", "setup.sh"), "echo setup\n")
	write(t, filepath.Join(ws, "tools", "unused.sh"), "echo unused\n")
	write(t, filepath.Join(ws, "README.md"), "not read by the build\n")
	write(t, filepath.Join(ws, ".dockerignore"), "**/*.log\n")
	f.template = ws
	return f
}

// workspace copies the template to a new checkout.
func (f *keyFixture) workspace(t *testing.T) string {
	ws := filepath.Join(t.TempDir(), "checkout")
	copyTree(t, f.template, ws)
	return ws
}

func (f *keyFixture) key(t *testing.T, ws string, r *testResolver, o plan.Options) string {
	t.Helper()
	if r == nil {
		r = f.resolver(t)
	}
	res, err := planFor(t, ws, r, o)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return res.Plan.Key()
}

func (f *keyFixture) resolver(t *testing.T) *testResolver {
	r := newResolver(t, resolve.Options{CacheDir: f.cache})
	r.images["devcache.test/tools:1"] = &devcontainer.Image{Digest: digest("7"), ManifestDigest: digest("8")}
	r.images["devcache.test/extra:1"] = &devcontainer.Image{Digest: digest("9"), ManifestDigest: digest("9")}
	r.images["devcache.test/docker/dockerfile:1"] = &devcontainer.Image{Digest: digest("f"), ManifestDigest: digest("0")}
	return r
}

// keyCase mutates one input of a fresh checkout; miss says whether the key
// must change.
type keyCase struct {
	name   string
	miss   bool
	mutate func(t *testing.T, f *keyFixture, ws string, r *testResolver, o *plan.Options)
}

func edit(t *testing.T, p, old, new string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", p, old)
	}
	write(t, p, strings.Replace(string(b), old, new, 1))
}

func cfgPath(ws string) string { return filepath.Join(ws, ".devcontainer", "devcontainer.json") }
func dfPath(ws string) string  { return filepath.Join(ws, ".devcontainer", "Dockerfile") }

var keyCases = []keyCase{
	// Must change (a miss).
	{"dockerfile text", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, dfPath(ws), "echo prod", "echo production")
	}},
	{"copy source content", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		write(t, filepath.Join(ws, "src", "main.go"), "package main // changed\n")
	}},
	{"new file under a copied directory", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		write(t, filepath.Join(ws, "src", "new.go"), "package main\n")
	}},
	{"executable bit of a copied file", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		os.Chmod(filepath.Join(ws, "src", "main.go"), 0o755)
	}},
	{"run bind mount source", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		write(t, filepath.Join(ws, "tools", "setup.sh"), "echo setup v2\n")
	}},
	{"build arg", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `"GREETING": "hi"`, `"GREETING": "hello"`)
	}},
	{"build target", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `"target": "dev"`, `"target": "prod"`)
	}},
	{"oci feature option", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `"mild"`, `"hot"`)
	}},
	{"feature content behind an unchanged tag", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		// Retag: ns/feat:1 now holds the other content.
		src := t.TempDir()
		write(t, filepath.Join(src, "devcontainer-feature.json"), `{"id":"feat","version":"1.0.0","options":{"flavor":{"type":"string","default":"plain"}}}`)
		write(t, filepath.Join(src, "install.sh"), "echo one, patched\n")
		f.reg.PublishFeature(t, src, "ns/feat", nil, "1")
		t.Cleanup(func() { // point the tag back at the very same manifest
			repo := f.reg.Host + "/ns/feat"
			d, err := name.NewDigest(repo + "@" + f.orig.ManifestDigest)
			if err != nil {
				t.Fatal(err)
			}
			desc, err := remote.Get(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Tag(d.Context().Tag("1"), desc); err != nil {
				t.Fatal(err)
			}
		})
	}},
	{"local feature file", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		write(t, filepath.Join(ws, ".devcontainer", "local", "install.sh"), "echo local v2\n")
	}},
	{"base image digest behind an unchanged tag", true, func(t *testing.T, f *keyFixture, ws string, r *testResolver, _ *plan.Options) {
		img := *r.images["devcache.test/base:1"]
		img.Digest, img.ManifestDigest = digest("a"), digest("b")
		r.images["devcache.test/base:1"] = &img
	}},
	{"image of another stage behind an unchanged tag", true, func(t *testing.T, f *keyFixture, ws string, r *testResolver, _ *plan.Options) {
		r.images["devcache.test/tools:1"] = &devcontainer.Image{Digest: digest("c"), ManifestDigest: digest("d")}
	}},
	{"copy --from image behind an unchanged tag", true, func(t *testing.T, f *keyFixture, ws string, r *testResolver, _ *plan.Options) {
		r.images["devcache.test/extra:1"] = &devcontainer.Image{Digest: digest("e"), ManifestDigest: digest("e")}
	}},
	{"syntax frontend image behind an unchanged tag", true, func(t *testing.T, f *keyFixture, ws string, r *testResolver, _ *plan.Options) {
		r.images["devcache.test/docker/dockerfile:1"] = &devcontainer.Image{Digest: digest("1"), ManifestDigest: digest("0")}
	}},
	{"BUILDKIT_SYNTAX build arg", true, func(t *testing.T, f *keyFixture, ws string, r *testResolver, _ *plan.Options) {
		r.images["devcache.test/docker/dockerfile:2"] = &devcontainer.Image{Digest: digest("2"), ManifestDigest: digest("2")}
		edit(t, cfgPath(ws), `"GREETING": "hi"`, `"GREETING": "hi", "BUILDKIT_SYNTAX": "devcache.test/docker/dockerfile:2"`)
	}},
	{"platform", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, o *plan.Options) {
		o.Platform = "linux/arm64"
	}},
	{"lockfile entry", true, func(t *testing.T, f *keyFixture, ws string, r *testResolver, o *plan.Options) {
		// The baseline has no lockfile; a lockfile pinning another version
		// of the feature than the tag holds changes what is built.
		res, err := planFor(t, ws, r, *o)
		if err != nil {
			t.Fatal(err)
		}
		lock := string(res.Lockfile.Bytes())
		var pinned string
		for _, ft := range res.Plan.Features {
			if ft.Source.ManifestDigest != "" {
				pinned = ft.Source.ManifestDigest
			}
		}
		if pinned == "" || !strings.Contains(lock, pinned) {
			t.Fatalf("lockfile %s does not pin the OCI feature", lock)
		}
		lock = strings.ReplaceAll(lock, pinned, f.alt.ManifestDigest)
		write(t, filepath.Join(ws, ".devcontainer", "devcontainer-lock.json"), lock)
	}},
	{"containerEnv (reaches the image)", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `"FOO": "bar"`, `"FOO": "baz"`)
	}},
	{"remoteUser (reaches the label)", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `"remoteUser": "root"`, `"remoteUser": "nobody"`)
	}},
	{"postCreateCommand (reaches the label)", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `echo created`, `echo made`)
	}},
	// Decided: label-only fields are in the cached image's label (as the
	// reference writes it), so they change the key; a hit never carries a
	// stale label.
	{"forwardPorts (label only; kept in the label)", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `[8080]`, `[8081]`)
	}},
	{"customizations (label only; kept in the label)", true, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), `"a.b"`, `"c.d"`)
	}},

	// Must not change (a hit).
	{"jsonc comments", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		edit(t, cfgPath(ws), "{\n", "{\n\t/* block */ // and line\n")
	}},
	{"whitespace and trailing commas", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		b, _ := os.ReadFile(cfgPath(ws))
		s := strings.ReplaceAll(string(b), "\t", "        ")
		s = strings.Replace(s, `"echo created"`, "\"echo created\",\n\n", 1)
		write(t, cfgPath(ws), s)
	}},
	{"order of keys the label does not depend on", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		b, _ := os.ReadFile(cfgPath(ws))
		s := string(b)
		start, end := strings.Index(s, "\t\"build\""), strings.Index(s, "\t\"features\"")
		build := s[start:end]
		s = s[:start] + s[end:]
		s = strings.Replace(s, "\t\"containerEnv\"", build+"\t\"containerEnv\"", 1)
		write(t, cfgPath(ws), s)
	}},
	{"file the build does not read", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		write(t, filepath.Join(ws, "README.md"), "edited\n")
		write(t, filepath.Join(ws, "tools", "unused.sh"), "echo edited\n")
		write(t, filepath.Join(ws, "docs", "new.md"), "new\n")
	}},
	{"file excluded by .dockerignore", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		write(t, filepath.Join(ws, "src", "debug.log"), "more noise\n")
		write(t, filepath.Join(ws, "src", "trace.log"), "new noise\n")
	}},
	{"mtimes", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		filepath.Walk(ws, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	}},
	{"umask group/other bits", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		filepath.Walk(ws, func(p string, info os.FileInfo, _ error) error {
			return os.Chmod(p, info.Mode().Perm()|0o020) // umask 0002
		})
	}},
	{"checkout path", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		// The case runs in a fresh temporary directory already; the
		// baseline ran in another.
	}},
	{"clone depth (.git contents)", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		write(t, filepath.Join(ws, ".git", "shallow"), "0123456789abcdef0123456789abcdef01234567\n")
		write(t, filepath.Join(ws, ".git", "HEAD"), "ref: refs/heads/main\n")
	}},
	{"host user", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, o *plan.Options) {
		o.LookupEnv = func(k string) (string, bool) {
			switch k {
			case "USER", "LOGNAME":
				return "someone-else", true
			case "HOME":
				return "/home/someone-else", true
			}
			return "", false
		}
	}},
	{"wall clock", false, func(t *testing.T, f *keyFixture, ws string, _ *testResolver, _ *plan.Options) {
		time.Sleep(1100 * time.Millisecond)
	}},
}

// TestKeyMatrix is DESIGN.md's "what the key must and must not depend on":
// each case mutates one input of a fresh checkout and asserts a miss (the
// key changes) or a hit (it does not).
func TestKeyMatrix(t *testing.T) {
	f := newKeyFixture(t)
	baseRes, err := planFor(t, f.workspace(t), f.resolver(t), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	baseline := baseRes.Plan.Key()
	for _, c := range keyCases {
		t.Run(c.name, func(t *testing.T) {
			ws := f.workspace(t)
			r := f.resolver(t)
			o := plan.Options{}
			c.mutate(t, f, ws, r, &o)
			got := f.key(t, ws, r, o)
			switch {
			case c.miss && got == baseline:
				t.Errorf("%s: the key did not change (a stale hit)", c.name)
			case !c.miss && got != baseline:
				res, _ := planFor(t, ws, f.resolver(t), o)
				t.Errorf("%s: the key changed (a needless miss); plan lines that differ:\n%s", c.name, lineDiff(string(baseRes.Plan.JSON()), string(res.Plan.JSON())))
			}
		})
	}
}

// The baseline itself pins the context: the Dockerfile's context files
// are in the Plan, .dockerignore'd and unread files are not.
func TestContextDigestInPlan(t *testing.T) {
	f := newKeyFixture(t)
	res, err := planFor(t, f.workspace(t), f.resolver(t), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	df := res.Plan.Base.Dockerfile
	if df == nil || !strings.HasPrefix(df.ContextDigest, "sha256:") {
		t.Fatalf("no context digest in the plan:\n%s", res.Plan.JSON())
	}
	want := []plan.ImagePin{{Ref: "devcache.test/base:1", Digest: digest("1")}, {Ref: "devcache.test/extra:1", Digest: digest("9")}, {Ref: "devcache.test/tools:1", Digest: digest("7")}}
	if !reflect.DeepEqual(df.Images, want) {
		t.Errorf("images = %+v, want %+v", df.Images, want)
	}
}

// lineDiff lists the lines of b that a lacks (+) and of a that b lacks (-).
func lineDiff(a, b string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if cb[l] < ca[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if ca[l] < cb[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
