package conformance

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/lockfile"
	"github.com/devcache/devcache/devcontainer/payload"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
)

// images are the base images of the fixtures, for both sides.
var images = map[string]Image{
	"devcache.test/base:1":                        {},
	"devcache.test/base:ubuntu":                   {User: "vscode"},
	"devcache.test/ubuntu:latest":                 {},
	"devcache.test/image-metadata-test-base:1":    {Labels: map[string]string{"devcontainer.metadata": `{"id":"baseFeature"}`}},
	"devcache.test/typescript-node:0-16-bullseye": {User: "node"},
	"devcache.test/prebuilt:1":                    {User: "app", Labels: map[string]string{"devcontainer.metadata": `[{"id":"x","remoteUser":"vscode"},{"containerUser":"builder"}]`}},
}

type fixtureResolver struct{ *resolve.Client }

func (r fixtureResolver) ResolveImage(_ context.Context, ref, platform string) (*devcontainer.Image, error) {
	img, ok := images[ref]
	if !ok {
		return nil, os.ErrNotExist
	}
	return &devcontainer.Image{Ref: ref, Digest: "sha256:" + strings.Repeat("1", 64), ManifestDigest: "sha256:" + strings.Repeat("1", 64),
		Platform: platform, User: img.User, Env: img.Env, Labels: img.Labels}, nil
}

func testdata(rel string) string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..", "testdata", "devcontainer", filepath.FromSlash(rel))
}

// ours computes devcache's plan for ws.
func ours(t *testing.T, ws string, client *resolve.Client) (*plan.Result, error) {
	return plan.ForWorkspace(context.Background(), ws, plan.Options{
		Resolver: fixtureResolver{client}, Platform: "linux/amd64",
		LookupEnv: os.LookupEnv,
	})
}

// TestDifferentialFixtures runs the reference CLI on every ordering and
// conformance fixture and compares its build inputs with devcache's Plan.
func TestDifferentialFixtures(t *testing.T) {
	cli := ReferenceCLI(t)
	var dirs []string
	for _, pattern := range []string{"order/*", "conformance/c4-*", "conformance/c6-*", "conformance/c7-outside", "conformance/c23-*", "conformance/c24-*", "conformance/c3-*", "conformance/c1-*"} {
		m, _ := filepath.Glob(testdata(pattern))
		dirs = append(dirs, m...)
	}
	if len(dirs) < 16 {
		t.Fatalf("only %d fixtures found", len(dirs))
	}
	for _, src := range dirs {
		t.Run(filepath.Base(src), func(t *testing.T) {
			ws := filepath.Join(t.TempDir(), filepath.Base(src))
			copyDir(t, src, ws)
			compareWithReference(t, cli, ws, nil)
		})
	}
}

// compareWithReference computes devcache's plan for ws, then runs the
// reference on ws and compares.
func compareWithReference(t *testing.T, cli, ws string, extraEnv []string, extraArgs ...string) *plan.Result {
	t.Helper()
	client := resolve.New(resolve.Options{CacheDir: t.TempDir(), HTTPClient: httpClient})
	res, ourErr := ours(t, ws, client)
	out, capture, stderr := RunBuild(t, cli, ws, images, extraEnv, extraArgs...)
	if out.Outcome != "success" {
		if ourErr == nil {
			t.Fatalf("reference failed (%s: %s) but devcache did not\n%s", out.Message, out.Description, tail(stderr))
		}
		if !strings.Contains(ourErr.Error(), out.Message) && !strings.Contains(stderr, ourErr.Error()) {
			t.Errorf("errors differ:\nreference: %s\ndevcache:  %v", out.Message, ourErr)
		}
		return nil
	}
	if ourErr != nil {
		t.Fatalf("devcache failed but the reference did not: %v", ourErr)
	}
	p := res.Plan
	if len(p.Features) != len(capture.Features) {
		t.Fatalf("%d features, reference installs %d", len(p.Features), len(capture.Features))
	}
	for i, f := range p.Features {
		c := capture.Features[i]
		if f.ConsecutiveID != c.ConsecutiveID {
			t.Errorf("install %d: %s, reference %s", i, f.ConsecutiveID, c.ConsecutiveID)
		}
		if f.EnvFile != c.EnvFile {
			t.Errorf("%s env file:\n%q\nreference:\n%q", f.ConsecutiveID, f.EnvFile, c.EnvFile)
		}
		if f.Wrapper != c.Wrapper {
			t.Errorf("%s wrapper:\n%s\nreference:\n%s", f.ConsecutiveID, f.Wrapper, c.Wrapper)
		}
		var envLines []string
		for _, e := range f.ContainerEnv {
			envLines = append(envLines, envLine(e, false))
		}
		if strings.Join(envLines, "\n") != strings.Join(c.EnvLines, "\n") {
			t.Errorf("%s ENV lines:\n%q\nreference:\n%q", f.ConsecutiveID, envLines, c.EnvLines)
		}
		tree, err := client.Payload(context.Background(), res.Installs[i].Node.Source)
		if err != nil {
			t.Fatal(err)
		}
		comparePayload(t, f.ConsecutiveID, tree, c.Files)
	}
	if len(p.Features) > 0 {
		if p.BuiltinEnv != capture.BuiltinEnv {
			t.Errorf("builtin env %q, reference %q", p.BuiltinEnv, capture.BuiltinEnv)
		}
		if p.HomesScript != capture.HomesRun {
			t.Errorf("homes RUN:\n%s\nreference:\n%s", p.HomesScript, capture.HomesRun)
		}
		if p.ImageUser != capture.ImageUser {
			t.Errorf("image user %q, reference %q", p.ImageUser, capture.ImageUser)
		}
		var cfgEnv []string
		for _, e := range p.ContainerEnv {
			cfgEnv = append(cfgEnv, envLine(e, true))
		}
		if strings.Join(cfgEnv, "\n") != strings.Join(capture.ConfigEnvLines, "\n") {
			t.Errorf("config ENV lines:\n%q\nreference:\n%q", cfgEnv, capture.ConfigEnvLines)
		}
	}
	if p.MetadataLabel != capture.Label {
		t.Errorf("label:\n%s\nreference:\n%s", p.MetadataLabel, capture.Label)
	}
	// The lockfile the reference wrote next to the config.
	if res.Lockfile != nil {
		want, err := os.ReadFile(lockfile.Path(filepath.FromSlash(res.Config.Path)))
		if err != nil {
			t.Fatalf("the reference wrote no lockfile: %v", err)
		}
		if got := string(res.Lockfile.Bytes()); got != string(want) {
			t.Errorf("lockfile:\n%s\nreference:\n%s", got, want)
		}
	}
	return res
}

// envLine is the ENV line the reference generates (generateContainerEnvs).
func envLine(e devcontainer.EnvVar, escapeDollar bool) string {
	chars := `"\`
	if escapeDollar {
		chars += "$"
	}
	var b strings.Builder
	for _, r := range e.Value {
		if strings.ContainsRune(chars, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return "ENV " + e.Name + `="` + b.String() + `"`
}

func comparePayload(t *testing.T, id string, tree *payload.Tree, ref map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, f := range tree.Files {
		if f.Type == payload.TypeFile {
			got[f.Path] = string(f.Data)
		}
	}
	for p, data := range ref {
		if g, ok := got[p]; !ok {
			t.Errorf("%s: reference stages %s, devcache does not", id, p)
		} else if g != data {
			t.Errorf("%s: %s differs", id, p)
		}
	}
	for p := range got {
		if _, ok := ref[p]; !ok {
			t.Errorf("%s: devcache stages %s, the reference does not", id, p)
		}
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
