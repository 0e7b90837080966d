package plugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/internal/policy"
	dcregistry "github.com/devcache/devcache/plugin/registry"
)

// registryOptions are the flags of the commands that talk to registries
// from the client (probe, lock, prune, warm): mirrors, extra CAs, plain
// HTTP hosts, the source policy and a time limit. Proxies come from the
// standard HTTP_PROXY/HTTPS_PROXY/NO_PROXY variables; credentials are the
// command run's (rootOptions.credentials), handed to newRegistry.
type registryOptions struct {
	mirrors  []string
	caFiles  []string
	insecure []string
	allow    []string
	timeout  time.Duration
	// warmDir is --base-image-cache-dir (build and push only).
	warmDir string
}

// addRegistryFlags registers the registry flags and the source policy on
// fs.
func addRegistryFlags(fs *pflag.FlagSet, o *registryOptions) {
	addRegistryAccessFlags(fs, o)
	fs.StringArrayVar(&o.allow, "allow", nil, "Source policy: only use base images, Dockerfile FROMs and features matching PATTERN (repeatable; \"!PATTERN\" refuses; see docs/cache-commands.md)")
}

// addRegistryAccessFlags registers how registries are reached (for
// commands that resolve no sources, such as prune).
func addRegistryAccessFlags(fs *pflag.FlagSet, o *registryOptions) {
	fs.StringArrayVar(&o.mirrors, "registry-mirror", nil, "Fetch from a mirror: FROM=TO[/PREFIX] (e.g. docker.io=artifactory.example.com/dockerhub; repeatable)")
	fs.StringArrayVar(&o.caFiles, "registry-ca", nil, "PEM file of extra CA certificates for registries (repeatable)")
	fs.StringArrayVar(&o.insecure, "insecure-registry", nil, "Registry host to reach over plain HTTP (loopback hosts always are; repeatable)")
	durationVar(fs, &o.timeout, "timeout", 2*time.Minute, "Give up after this long (an error, exit code 2 for probe)")
}

// context is the command's context bounded by --timeout.
func (o *registryOptions) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if o.timeout > 0 {
		return context.WithTimeout(ctx, o.timeout)
	}
	return context.WithCancel(ctx)
}

// policy parses --allow.
func (o *registryOptions) policy() (*policy.Policy, error) {
	return policy.Parse(o.allow)
}

// registry is the registry access of one command run.
type registry struct {
	transport http.RoundTripper // mirrors + plain HTTP + credential guard + CAs + proxies
	base      *http.Transport   // CAs + proxies (tarball downloads)
	keychain  authn.Keychain
	policy    *policy.Policy
	// warm is the --base-image-cache-dir layout, read before registries.
	warm *warmLayout
}

// newRegistry builds the registry access of the flags with creds, the
// command run's one credential source (rootOptions.credentials).
func (o *registryOptions) newRegistry(creds authn.Keychain) (*registry, error) {
	pol, err := o.policy()
	if err != nil {
		return nil, err
	}
	base, err := baseTransport(o.caFiles)
	if err != nil {
		return nil, err
	}
	mirrors, err := parseMirrors(o.mirrors)
	if err != nil {
		return nil, err
	}
	insecure := map[string]bool{}
	for _, h := range o.insecure {
		insecure[h] = true
	}
	for _, m := range mirrors {
		if m.scheme == "http" {
			insecure[m.toHost] = true
		}
	}
	// The guard sits below the rewriting: it sees the scheme and host a
	// request really goes to.
	rt := &rewriteTransport{inner: dcregistry.NewChallengeGuard(base), mirrors: mirrors, insecure: insecure}
	reg := &registry{transport: rt, base: base, keychain: mirrorKeychain{inner: creds, mirrors: mirrors}, policy: pol}
	if o.warmDir != "" {
		if _, err := os.Stat(filepath.Join(o.warmDir, "index.json")); err != nil {
			return nil, fmt.Errorf("--base-image-cache-dir %s: not a `docker devcache warm` directory: %w", o.warmDir, err)
		}
		if reg.warm, err = openWarmLayout(o.warmDir); err != nil {
			return nil, fmt.Errorf("--base-image-cache-dir: %w", err)
		}
	}
	return reg, nil
}

// options are go-containerregistry options for a call.
func (r *registry) options(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(r.keychain), remote.WithTransport(r.transport)}
}

// resolver is the Plan resolver: resolve.Client with this access, the
// source policy in front and digest-pinned images remembered on disk.
func (r *registry) resolver() plan.Resolver {
	cache := resolve.DefaultCacheDir()
	c := resolve.New(resolve.Options{
		Keychain:   r.keychain,
		Transport:  r.transport,
		HTTPClient: &http.Client{Transport: r.base},
		CacheDir:   cache,
	})
	var res plan.Resolver = c
	if cache != "" {
		res = &pinnedImages{Resolver: res, dir: cache}
	}
	if r.warm != nil {
		res = &warmedResolver{Resolver: res, lay: r.warm}
	}
	return &onceImages{Resolver: &policyResolver{Resolver: res, policy: r.policy}}
}

// baseTransport is an HTTP transport with the environment's proxies and the
// system CAs plus caFiles.
func baseTransport(caFiles []string) (*http.Transport, error) {
	if len(caFiles) == 0 {
		return sharedTransport, nil
	}
	return newBaseTransport(caFiles)
}

// sharedTransport is the base transport without extra CAs, shared by every
// command run of the process so that connections are reused, not leaked.
var sharedTransport, _ = newBaseTransport(nil)

func newBaseTransport(caFiles []string) (*http.Transport, error) {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if len(caFiles) == 0 {
		return t, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range caFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--registry-ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--registry-ca %s: no PEM certificate found", f)
		}
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}

// registryHost normalises Docker Hub's names to the host ggcr talks to.
func registryHost(h string) string {
	switch h {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return name.DefaultRegistry
	}
	return h
}

// cacheRepository parses --cache-repo.
func cacheRepository(s string) (name.Repository, error) {
	if s == "" {
		return name.Repository{}, fmt.Errorf("--cache-repo is required (or DEVCACHE_CACHE_REPO): the repository holding the cached images, e.g. registry.example.com/team/devcache")
	}
	if strings.ContainsAny(s, "@") || (strings.LastIndex(s, ":") > strings.LastIndex(s, "/")) {
		return name.Repository{}, fmt.Errorf("--cache-repo %q: give a repository without tag or digest; entries are tagged by their key", s)
	}
	r, err := name.NewRepository(s)
	if err != nil {
		return name.Repository{}, fmt.Errorf("--cache-repo %q: %w", s, err)
	}
	return r, nil
}
