package resolve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/payload"
	"github.com/devcache/devcache/internal/retry"
)

// Options configure a Client.
type Options struct {
	// Keychain supplies registry credentials; default anonymous. The
	// package never reads a docker config itself: the plugin passes its one
	// credential source (plugin/registry.Credentials).
	Keychain authn.Keychain
	// Transport is the HTTP transport for registries (default
	// remote.DefaultTransport under retry.Default). It should retry as
	// package retry does: the plugin's registry.Client.Transport does.
	Transport http.RoundTripper
	// HTTPClient downloads tarball features (default http.DefaultClient)
	// unless Download is set.
	HTTPClient *http.Client
	// Download, when set, fetches a tarball feature's archive instead of
	// an HTTP GET with HTTPClient (the frontend fetches through BuildKit,
	// so the daemon's CAs, proxies and network apply). The Client still
	// bounds the size (MaxDownload), checks the digest and extracts.
	Download func(ctx context.Context, url string) (io.ReadCloser, error)
	// CacheDir holds verified blobs by digest; "" disables the disk cache.
	CacheDir string
	// Limits bound payloads (default payload.DefaultLimits).
	Limits payload.Limits
	// MaxDownload bounds a tarball or blob download (default 256 MiB).
	MaxDownload int64
}

// DefaultCacheDir is <user cache dir>/devcache/resolve.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "devcache", "resolve")
}

// Client resolves features and images. It is safe for concurrent use; a
// reference is resolved once per Client.
type Client struct {
	o Options

	// puller keeps one authenticated transport per repository (nil if
	// go-containerregistry refused the options: then every request
	// authenticates on its own).
	puller *remote.Puller

	mu       sync.Mutex
	sources  map[string]*features.Source
	payloads map[string]*payload.Tree // by Source.ContentDigest
}

// New returns a Client.
func New(o Options) *Client {
	if o.Keychain == nil {
		o.Keychain = authn.NewMultiKeychain() // anonymous
	}
	if o.Transport == nil {
		o.Transport = retry.Default.Transport(remote.DefaultTransport)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Limits.MaxFiles == 0 {
		o.Limits = payload.DefaultLimits
	}
	if o.MaxDownload == 0 {
		o.MaxDownload = 256 << 20
	}
	puller, _ := remote.NewPuller(append(retry.RemoteOptions(), remote.WithAuthFromKeychain(o.Keychain), remote.WithTransport(o.Transport))...)
	return &Client{o: o, puller: puller, sources: map[string]*features.Source{}, payloads: map[string]*payload.Tree{}}
}

// Resolve implements features.Resolver.
func (c *Client) Resolve(ctx context.Context, ref *features.Ref, pin string) (*features.Source, error) {
	key := string(ref.Kind) + "\x00" + ref.ID + "\x00" + ref.LocalPath + "\x00" + pin
	c.mu.Lock()
	if s, ok := c.sources[key]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	var (
		src  *features.Source
		tree *payload.Tree
		err  error
	)
	switch ref.Kind {
	case features.KindOCI:
		src, tree, err = c.resolveOCI(ctx, ref, pin)
	case features.KindTarball:
		src, tree, err = c.resolveTarball(ctx, ref, pin)
	case features.KindLocal:
		src, tree, err = c.resolveLocal(ref)
	default:
		err = fmt.Errorf("unknown feature kind %q", ref.Kind)
	}
	if err != nil {
		return nil, err
	}
	src.ContentDigest = tree.Digest()
	c.mu.Lock()
	c.sources[key] = src
	c.payloads[src.ContentDigest] = tree
	c.mu.Unlock()
	return src, nil
}

// Payload returns the files of a resolved source.
func (c *Client) Payload(ctx context.Context, src *features.Source) (*payload.Tree, error) {
	c.mu.Lock()
	t, ok := c.payloads[src.ContentDigest]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	return nil, fmt.Errorf("payload %s of %s was not resolved by this client", src.ContentDigest, src.Ref.UserFeatureID)
}
