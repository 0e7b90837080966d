package registry

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/devcache/devcache/internal/retry"
)

// Client is the registry access of one command run: credentials, mirrors,
// plain-HTTP hosts, extra CAs and the environment's proxies, for every
// request the plugin makes from the client (resolution, probe, tags,
// referrers, prune, warm). Build it with New.
type Client struct {
	transport http.RoundTripper // mirrors + plain HTTP + credential guard + CAs + proxies
	base      *http.Transport   // CAs + proxies (tarball downloads)
	keychain  authn.Keychain
}

// config collects the options of New.
type config struct {
	base     *http.Transport
	caFiles  []string
	keychain authn.Keychain
	mirrors  []Mirror
	insecure []string
	retry    retry.Policy
}

// Option configures New.
type Option func(*config)

// WithKeychain sets the credentials (default: anonymous). The plugin
// passes the command run's one credential source, *Credentials.
func WithKeychain(kc authn.Keychain) Option { return func(c *config) { c.keychain = kc } }

// WithTransport sets the base HTTP transport (default: the environment's
// proxies and the system CAs, shared by every client without CA files).
// WithCAFiles then adds nothing.
func WithTransport(t *http.Transport) Option { return func(c *config) { c.base = t } }

// WithCAFiles trusts the PEM certificates of files besides the system
// CAs.
func WithCAFiles(files []string) Option { return func(c *config) { c.caFiles = files } }

// WithMirrors sends the requests of mirrored registries to their mirrors
// (see ParseMirrors).
func WithMirrors(ms []Mirror) Option { return func(c *config) { c.mirrors = ms } }

// WithInsecure reaches these hosts (host[:port]) over plain HTTP.
func WithInsecure(hosts []string) Option { return func(c *config) { c.insecure = hosts } }

// WithRetry sets how failed requests are retried and how long one request
// may stall (default retry.Default; see docs/failure-behaviour.md).
func WithRetry(p retry.Policy) Option { return func(c *config) { c.retry = p } }

// New builds a client. It fails only when a CA file cannot be read or
// holds no certificate; the error names the file.
func New(opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	base := cfg.base
	if base == nil {
		var err error
		if base, err = BaseTransport(cfg.caFiles); err != nil {
			return nil, err
		}
	}
	kc := cfg.keychain
	if kc == nil {
		kc = authn.NewMultiKeychain() // anonymous
	}
	insecure := map[string]bool{}
	for _, h := range cfg.insecure {
		insecure[h] = true
	}
	for _, m := range cfg.mirrors {
		if m.scheme == "http" {
			insecure[m.toHost] = true
		}
	}
	// The guard sits below the rewriting: it sees the scheme and host a
	// request really goes to.
	// Retries sit above everything: each attempt is rewritten and guarded
	// afresh.
	rt := cfg.retry.Transport(&rewriteTransport{inner: NewChallengeGuard(base), mirrors: cfg.mirrors, insecure: insecure})
	return &Client{transport: rt, base: base, keychain: mirrorKeychain{inner: kc, mirrors: cfg.mirrors}}, nil
}

// Options are go-containerregistry options for a call with this access
// and the retry policy.
func (c *Client) Options(ctx context.Context) []remote.Option {
	return append(retry.RemoteOptions(), remote.WithContext(ctx), remote.WithAuthFromKeychain(c.keychain), remote.WithTransport(c.transport))
}

// Transport is the round tripper of registry requests: retries, mirrors,
// plain HTTP hosts, the credential guard, CAs and proxies. Use it with
// retry.RemoteOptions.
func (c *Client) Transport() http.RoundTripper { return c.transport }

// HTTPClient is a client for plain downloads (tarball features): CAs and
// proxies, no registry rewriting.
func (c *Client) HTTPClient() *http.Client { return &http.Client{Transport: c.base} }

// Keychain is the credentials, looked up under a mirror's host for a
// mirrored registry.
func (c *Client) Keychain() authn.Keychain { return c.keychain }

// IsNotFound tells whether err is a registry's "no such manifest or
// repository" (404), the only error that means a miss.
func IsNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}
