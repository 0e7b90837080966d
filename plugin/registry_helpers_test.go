package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	dccache "github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/resolver"
)

// isolate points the resolve cache and the docker config at temporary
// directories, so tests neither read nor write the user's.
func isolate(t *testing.T) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("GITHUB_OUTPUT", "")
	t.Setenv("DEVCONTAINERS_OCI_AUTH", "")
}

// cmdResult is a command run's outputs and exit code as the docker CLI's
// binaries map them (cmdline.ExitCode).
type cmdResult struct {
	stdout, stderr string
	code           int
	err            error
}

// runDevcache runs `docker devcache ARGS…` in-process.
func runDevcache(t *testing.T, args ...string) cmdResult {
	t.Helper()
	root := NewRootCommand(nil)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	r := cmdResult{stdout: out.String(), stderr: errb.String(), err: err}
	if r.code = cmdline.ExitCode(err); err != nil {
		r.stderr += err.Error()
	}
	return r
}

func (r cmdResult) String() string {
	return "exit " + itoa(r.code) + "\nstdout: " + r.stdout + "\nstderr: " + r.stderr
}

func itoa(i int) string {
	return strconv.Itoa(i)
}

// imageWorkspace writes a workspace whose config is content.
func imageWorkspace(t *testing.T, content string) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), content, 0o644)
	return ws
}

// pushEntry writes a stand-in cache entry (what push will write) at
// repo:tag, with annotations and the config's created time, and returns
// its digest.
func pushEntry(t *testing.T, repo, tag string, created time.Time, ann map[string]string) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	if len(ann) > 0 {
		img = mutate.Annotations(img, ann).(v1.Image)
	}
	ref, err := name.ParseReference(repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// planFor computes the Plan probe would compute for ws.
func planFor(t *testing.T, ws string) *plan.Plan {
	t.Helper()
	ro, err := (&cmdline.ResolveFlags{}).Options(&cmdline.Root{WorkspaceFolder: ws, Format: "text"}, &cmdline.RegistryFlags{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := resolver.Plans(context.Background(), ro)
	if err != nil {
		t.Fatal(err)
	}
	return res.Plans[0]
}

// imageEntryFixture isolates the test and starts a registry holding a base
// image; it returns a workspace whose config uses that image, a cache
// repository in the same registry and the workspace's key tag there.
func imageEntryFixture(t *testing.T) (ws, cache, tag string) {
	t.Helper()
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	ws = imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12"}`)
	return ws, reg.Host + "/cache", dccache.KeyTag([]*plan.Plan{planFor(t, ws)})
}
