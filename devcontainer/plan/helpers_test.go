package plan_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
)

// testResolver is the real client resolver, with base images that tests
// declare instead of pushing (other images go to the registry).
type testResolver struct {
	*resolve.Client
	images map[string]*devcontainer.Image
}

func (r *testResolver) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	if img, ok := r.images[ref]; ok {
		c := *img
		c.Ref, c.Platform = ref, platform
		return &c, nil
	}
	return r.Client.ResolveImage(ctx, ref, platform)
}

func newResolver(t *testing.T, opts resolve.Options) *testResolver {
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	return &testResolver{Client: resolve.New(opts), images: map[string]*devcontainer.Image{
		"devcache.test/base:1":                        {Digest: digest("1"), ManifestDigest: digest("2")},
		"devcache.test/base:ubuntu":                   {Digest: digest("3"), ManifestDigest: digest("3"), User: "vscode"},
		"devcache.test/ubuntu:latest":                 {Digest: digest("4"), ManifestDigest: digest("4")},
		"devcache.test/typescript-node:0-16-bullseye": {Digest: digest("5"), ManifestDigest: digest("5"), User: "node"},
		"devcache.test/onbuild:1":                     {Digest: digest("8"), ManifestDigest: digest("8"), OnBuild: []string{"COPY . /app/"}},
		"devcache.test/image-metadata-test-base:1": {Digest: digest("6"), ManifestDigest: digest("6"),
			Labels: map[string]string{"devcontainer.metadata": `{"id":"baseFeature"}`}},
	}}
}

func digest(c string) string { return "sha256:" + repeat(c, 64) }

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

// testdata returns the absolute path of testdata/devcontainer/<rel>.
func testdata(t *testing.T, rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "devcontainer", filepath.FromSlash(rel))
}

func planFor(t *testing.T, ws string, r plan.Resolver, o plan.Options) (*plan.Result, error) {
	t.Helper()
	o.Resolver = r
	if o.Platform == "" {
		o.Platform = "linux/amd64"
	}
	if o.LookupEnv == nil {
		o.LookupEnv = func(string) (string, bool) { return "", false }
	}
	return plan.ForWorkspace(context.Background(), ws, o)
}
