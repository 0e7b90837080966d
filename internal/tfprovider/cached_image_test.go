package tfprovider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/devcache/devcache/plugin"
	"github.com/devcache/devcache/plugin/cache"
)

const ds = "data.devcache_cached_image.ws"

// fallback is the fallback_image of the test configs.
const fallback = "ghcr.io/coder/envbuilder:1.1.0"

// config is a test configuration of the data source with attrs (HCL).
func config(attrs string) string {
	return `terraform {
  required_providers {
    devcache = { source = "registry.terraform.io/devcache/devcache" }
  }
}

data "devcache_cached_image" "ws" {
  fallback_image = "` + fallback + `"
` + attrs + `
}

output "image" { value = data.devcache_cached_image.ws.image }
`
}

// fixture is a dev container repository whose base image is in the
// stack's registry, and a cache repository for it.
type fixture struct {
	registry string
	cache    string // cache repository
	bare     string // bare git repository (…/app.git)
	work     string // its work tree (…/app)
}

func newFixture(t *testing.T, devcontainer string) fixture {
	t.Helper()
	s := stacktest.Get(t)
	unique := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + fmt.Sprint(time.Now().UnixNano())
	f := fixture{registry: s.Registry, cache: s.Registry + "/tf/" + unique}
	pushImage(t, s.Registry, "base/debian:12")
	if devcontainer == "" {
		devcontainer = `{"image": "` + s.Registry + `/base/debian:12", "containerEnv": {"RUN": "` + unique + `"}}`
	}
	f.bare, f.work = gitRepo(t, t.TempDir(), devcontainer)
	return f
}

// capture stores the attribute's value in *v.
func capture(attr string, v *string) resource.TestCheckFunc {
	return resource.TestCheckResourceAttrWith(ds, attr, func(s string) error { *v = s; return nil })
}

// missChecks are the attributes of a miss.
func missChecks(f fixture, key *string) resource.TestCheckFunc {
	return resource.ComposeAggregateTestCheckFunc(
		resource.TestCheckResourceAttr(ds, "exists", "false"),
		resource.TestCheckResourceAttr(ds, "image", fallback),
		resource.TestCheckResourceAttr(ds, "created", ""),
		resource.TestMatchResourceAttr(ds, "key", regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)),
		resource.TestMatchResourceAttr(ds, "key_tag", regexp.MustCompile(`^`+regexp.QuoteMeta(f.cache)+`:dc-[0-9a-f]+$`)),
		capture("key", key),
		resource.TestCheckResourceAttrPair(ds, "id", ds, "key"),
	)
}

// hitChecks are the attributes of a hit on the entry *digest.
func hitChecks(f fixture, digest *string) resource.TestCheckFunc {
	return resource.ComposeAggregateTestCheckFunc(
		resource.TestCheckResourceAttr(ds, "exists", "true"),
		resource.TestCheckResourceAttrWith(ds, "image", func(v string) error {
			if want := f.cache + "@" + *digest; v != want {
				return fmt.Errorf("image = %q, want %q", v, want)
			}
			return nil
		}),
		resource.TestCheckResourceAttrWith(ds, "id", func(v string) error {
			if v != *digest {
				return fmt.Errorf("id = %q, want the digest %q", v, *digest)
			}
			return nil
		}),
		resource.TestMatchResourceAttr(ds, "created", regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
	)
}

// pushEntry pushes a stand-in cache entry at the key tag of *key (the
// base image, annotated with its creation time and the key, as push
// annotates entries) and stores its digest in *digest.
func pushEntry(t *testing.T, f fixture, key, digest *string) func() {
	return func() {
		baseRef, err := name.ParseReference(f.registry + "/base/debian:12")
		if err != nil {
			t.Fatal(err)
		}
		base, err := remote.Image(baseRef)
		if err != nil {
			t.Fatal(err)
		}
		img := mutate.Annotations(base, map[string]string{
			cache.AnnotationCreated: time.Now().UTC().Format(time.RFC3339),
			"devcache.test/key":     *key,
		}).(v1.Image)
		tag, err := name.ParseReference(f.cache + ":" + cache.TagOf(*key))
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		*digest = d.String()
	}
}

// TestAccCachedImageFileMissThenHitAgreesWithProbe: a repository cloned
// over file:// misses (fallback image, id = key) until its entry is pushed,
// and the next plan finds it (cached image by digest, id = digest,
// created); each time `docker devcache probe` on the same workspace
// reports the same key, key tag and image.
func TestAccCachedImageFileMissThenHitAgreesWithProbe(t *testing.T) {
	useTofu(t)
	f := newFixture(t, "")
	cfg := config(fmt.Sprintf("  git_url = %q\n  cache_repo = %q\n", "file://"+f.bare, f.cache))
	var key, digest string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{
			{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(missChecks(f, &key), probeAgrees(f, false))},
			{PreConfig: pushEntry(t, f, &key, &digest), Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(hitChecks(f, &digest), probeAgrees(f, true))},
		},
	})
}

// TestAccCachedImageHTTPPrivateRepo: a repository behind HTTP basic
// authentication on a loopback smart-HTTP server fails without credentials
// (an error, not a miss), and with git_username/git_password gives the key
// the same content has over file://.
func TestAccCachedImageHTTPPrivateRepo(t *testing.T) {
	useTofu(t)
	f := newFixture(t, "")
	url := gitHTTPServer(t, f.bare[:len(f.bare)-len("/app.git")], "dev", "s3cret") + "/app.git"
	attrs := fmt.Sprintf("  git_url = %q\n  git_ref = \"main\"\n  cache_repo = %q\n", url, f.cache)
	var fileKey, httpKey, digest string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{
			{Config: config(attrs), ExpectError: regexp.MustCompile(`(?s)cloning git_url .*authentication required`)},
			{Config: config(attrs + "  git_username = \"dev\"\n  git_password = \"wrong\"\n"), ExpectError: regexp.MustCompile(`authentication`)},
			{Config: config(fmt.Sprintf("  git_url = %q\n  cache_repo = %q\n", "file://"+f.bare, f.cache)), Check: capture("key", &fileKey)},
			{Config: config(attrs + "  git_username = \"dev\"\n  git_password = \"s3cret\"\n"), Check: resource.ComposeAggregateTestCheckFunc(
				missChecks(f, &httpKey),
				resource.TestCheckResourceAttrWith(ds, "key", func(v string) error {
					if v != fileKey {
						return fmt.Errorf("key over HTTP %s, over file:// %s", v, fileKey)
					}
					return nil
				}),
			)},
			{PreConfig: pushEntry(t, f, &httpKey, &digest), Config: config(attrs + "  git_username = \"dev\"\n  git_password = \"s3cret\"\n"), Check: hitChecks(f, &digest)},
		},
	})
}

// TestAccCachedImageBadConfig: a devcontainer.json that does not parse, a
// missing config and a malformed cache_repo are errors with the message.
func TestAccCachedImageBadConfig(t *testing.T) {
	useTofu(t)
	f := newFixture(t, `{"image": `)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{
			{Config: config(fmt.Sprintf("  workspace_folder = %q\n  cache_repo = %q\n", f.work, f.cache)), ExpectError: regexp.MustCompile(`devcontainer\.json`)},
			{Config: config(fmt.Sprintf("  workspace_folder = %q\n  config = \"nope/devcontainer.json\"\n  cache_repo = %q\n", f.work, f.cache)), ExpectError: regexp.MustCompile(`(?s)config.*not\s+found`)},
			{Config: config(fmt.Sprintf("  workspace_folder = %q\n  cache_repo = %q\n", f.work, f.cache+":latest")), ExpectError: regexp.MustCompile(`without\s+tag\s+or\s+digest`)},
			{Config: config(fmt.Sprintf("  git_url = %q\n  workspace_folder = %q\n  cache_repo = %q\n", "file://"+f.bare, f.work, f.cache)), ExpectError: regexp.MustCompile(`exactly\s+one\s+of\s+git_url`)},
		},
	})
}

// TestAccCachedImageUnreachableRegistry: a cache repository on a closed
// port is an error naming the lookup, never exists = false.
func TestAccCachedImageUnreachableRegistry(t *testing.T) {
	useTofu(t)
	f := newFixture(t, "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{
			{Config: config(fmt.Sprintf("  workspace_folder = %q\n  cache_repo = %q\n  timeout = \"20s\"\n", f.work, closed+"/tf/cache")),
				ExpectError: regexp.MustCompile(`(?s)looking\s+up\s+` + regexp.QuoteMeta(closed) + `.*connection\s+refused`)},
		},
	})
}

// TestAccCachedImageRegistryCredentials: a cache repository behind an
// authenticating registry is an error without credentials and a hit with
// docker_config_base64's.
func TestAccCachedImageRegistryCredentials(t *testing.T) {
	useTofu(t)
	f := newFixture(t, "")
	// The base image reads anonymously; the cache repository is behind
	// the proxy, which challenges anonymous requests.
	private := registrytest.Start(t, f.registry)
	cache := private.Host + strings.TrimPrefix(f.cache, f.registry)
	auth := base64.StdEncoding.EncodeToString([]byte(registrytest.Reader + ":" + registrytest.ReaderPassword))
	dockerConfig := base64.StdEncoding.EncodeToString([]byte(`{"auths": {"` + private.Host + `": {"auth": "` + auth + `"}}}`))
	attrs := fmt.Sprintf("  workspace_folder = %q\n  cache_repo = %q\n", f.work, cache)
	var key, digest string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{
			{Config: config(attrs), ExpectError: regexp.MustCompile(`(?s)looking\s+up.*(UNAUTHORIZED|401)`)},
			{Config: config(attrs + fmt.Sprintf("  docker_config_base64 = %q\n", dockerConfig)), Check: missChecks(fixture{cache: cache}, &key)},
			{PreConfig: pushEntry(t, f, &key, &digest),
				Config: config(attrs + fmt.Sprintf("  docker_config_base64 = %q\n", dockerConfig)), Check: hitChecks(fixture{cache: cache}, &digest)},
		},
	})
}

// probeAgrees runs `docker devcache probe --format json` on the fixture's
// work tree and compares its key and image with the data source's.
func probeAgrees(f fixture, hit bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		res, err := runProbe(f)
		if err != nil {
			return err
		}
		if res.Hit != hit {
			return fmt.Errorf("probe hit = %v, want %v", res.Hit, hit)
		}
		image := fallback
		if hit {
			image = res.Image
		}
		return resource.ComposeAggregateTestCheckFunc(
			resource.TestCheckResourceAttr(ds, "key", res.Key),
			resource.TestCheckResourceAttr(ds, "key_tag", res.Ref),
			resource.TestCheckResourceAttr(ds, "image", image),
		)(s)
	}
}

// probeJSON is the JSON of probe --format json.
type probeJSON struct {
	Hit   bool   `json:"hit"`
	Image string `json:"image"`
	Ref   string `json:"ref"`
	Key   string `json:"key"`
}

func runProbe(f fixture) (*probeJSON, error) {
	cmd := plugin.NewRootCommand(nil)
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs([]string{"probe", "--workspace-folder", f.work, "--cache-repo", f.cache, "--format", "json"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	var res probeJSON
	if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil {
		return nil, fmt.Errorf("docker devcache probe: %v (%v)\n%s%s", err, jerr, out.String(), errb.String())
	}
	return &res, nil
}
