package tfprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// serveProviderEnv makes the test binary serve the provider instead of
// running tests: TestExamplesValidate installs the binary itself as the
// provider, so that no second build of it is needed.
const serveProviderEnv = "DEVCACHE_TEST_SERVE_PROVIDER"

func TestMain(m *testing.M) {
	if os.Getenv(serveProviderEnv) == "1" {
		if err := providerserver.Serve(context.Background(), New("test"), providerserver.ServeOpts{Address: Address}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	stacktest.Main(m)
}

// providers runs this package's provider in the test process, reattached
// to the Terraform CLI under Address.
var providers = map[string]func() (tfprotov6.ProviderServer, error){
	"devcache": providerserver.NewProtocol6WithError(New("test")()),
}

var (
	tofuOnce sync.Once
	tofuPath string
	tofuErr  error
)

// useTofu points terraform-plugin-testing at the pinned OpenTofu CLI
// (built once per machine, stack.Tofu) and isolates the provider's
// environment: no docker credentials, no resolve cache of other tests.
func useTofu(t *testing.T) string {
	t.Helper()
	tofuOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		tofuPath, tofuErr = stack.Tofu(ctx, testLog{})
	})
	if tofuErr != nil {
		t.Fatalf("building OpenTofu %s: %v", stack.TofuVersion, tofuErr)
	}
	t.Setenv("TF_ACC", "1")
	t.Setenv("TF_ACC_TERRAFORM_PATH", tofuPath)
	// The test configs require registry.terraform.io/devcache/devcache,
	// the address the provider is reattached under.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "devcache")
	t.Setenv("TF_ACC_PROVIDER_HOST", "registry.terraform.io")
	t.Setenv("CHECKPOINT_DISABLE", "1")
	// An empty CLI configuration: no registry credentials, mirrors or
	// overrides of the machine's.
	cliConfig := filepath.Join(t.TempDir(), "tofurc")
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", cliConfig)
	keepMachineCaches(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DEVCONTAINERS_OCI_AUTH", "")
	t.Setenv("GITHUB_TOKEN", "")
	return tofuPath
}

// keepMachineCaches pins the stack's tool cache and Go's build and module
// caches to the machine's before HOME and XDG_CACHE_HOME are replaced, so
// that the stack (stacktest) and its tools are not rebuilt from scratch for
// this package.
func keepMachineCaches(t *testing.T) {
	t.Helper()
	d, err := stack.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DEVCACHE_STACK_CACHE_DIR", d)
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	var env map[string]string
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("go env: %v", err)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

type testLog struct{}

func (testLog) Write(b []byte) (int, error) {
	fmt.Fprint(os.Stderr, "tofu build: "+string(b))
	return len(b), nil
}

// pushImage writes a small linux/amd64 image (resolvetest's) at
// registry/repoTag, labelled with repoTag so that each is distinct, and
// returns its digest: a base image or a stand-in cache entry.
func pushImage(t *testing.T, registry, repoTag string) string {
	t.Helper()
	r := &resolvetest.Registry{Host: registry}
	return r.PushImage(t, repoTag, resolvetest.ImageConfig{Labels: map[string]string{"devcache.test/ref": repoTag}})
}

// gitRun runs git in dir with a fixed identity.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitRepo makes root/app.git, a bare repository whose main branch holds
// .devcontainer/devcontainer.json with content, and returns its path and
// the work tree it was pushed from (a folder named app, as a clone's).
func gitRepo(t *testing.T, root, content string) (bare, work string) {
	t.Helper()
	work = filepath.Join(t.TempDir(), "app")
	if err := os.MkdirAll(filepath.Join(work, ".devcontainer"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, ".devcontainer", "devcontainer.json"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	bare = filepath.Join(root, "app.git")
	gitRun(t, root, "init", "-q", "--bare", bare)
	gitRun(t, work, "init", "-q")
	gitRun(t, work, "add", ".")
	gitRun(t, work, "commit", "-q", "-m", "dev container")
	gitRun(t, work, "push", "-q", bare, "HEAD:refs/heads/main")
	gitRun(t, bare, "symbolic-ref", "HEAD", "refs/heads/main")
	return bare, work
}

// gitHTTPServer serves the bare repositories under root over smart HTTP
// (Debian git's git-http-backend through net/http/cgi) on loopback; with a
// user, only to HTTP basic authentication as user:password.
func gitHTTPServer(t *testing.T, root, user, password string) string {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Root: "/",
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); user != "" && (!ok || u != user || p != password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
