package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/devcache/devcache/internal/retry"
)

// manifestAccept are the manifest types a HEAD accepts.
var manifestAccept = strings.Join([]string{
	string(types.OCIImageIndex), string(types.OCIManifestSchema1),
	string(types.DockerManifestList), string(types.DockerManifestSchema2),
}, ", ")

// Head resolves ref to its manifest digest with, where the registry allows
// it, a single request: an anonymous HEAD sent directly. Credentials follow
// a challenge only: on a 401 with a Basic challenge the HEAD is sent once
// more with the keychain's Basic credentials; on any other 401 (token auth)
// go-containerregistry's ping, token exchange and HEAD follow. A 404 to the
// anonymous HEAD while the keychain holds credentials for the registry is
// asked again with them, through go-containerregistry's flow (registries
// hide private repositories from anonymous users), before it counts as
// missing. A missing manifest is a *transport.Error with status 404, as
// from remote.Head.
func (r *Client) Head(ctx context.Context, ref name.Reference) (v1.Hash, error) {
	req, err := headRequest(ctx, ref)
	if err != nil {
		return v1.Hash{}, err
	}
	resp, err := r.transport.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return v1.Hash{}, fmt.Errorf("HEAD %s: %w (%v)", req.URL, ctx.Err(), err)
		}
		var gaveUp *retry.GaveUpError
		if errors.As(err, &gaveUp) {
			return v1.Hash{}, fmt.Errorf("HEAD %s: %w", req.URL, err)
		}
		// TLS or scheme trouble: let ggcr's fallbacks (https then http for
		// insecure hosts) decide.
		return r.ggcrHead(ctx, ref)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
			return h, nil
		}
		return r.ggcrHead(ctx, ref)
	case http.StatusUnauthorized:
		return r.headChallenged(ctx, ref, resp.Header.Values("WWW-Authenticate"))
	case http.StatusNotFound:
		if r.hasCredentials(ref) {
			return r.ggcrHead(ctx, ref)
		}
	}
	return v1.Hash{}, headError(req, resp, ref)
}

// headChallenged answers a 401 to the anonymous HEAD: a Basic challenge is
// answered directly with the keychain's user and password, anything else
// through go-containerregistry's challenge flow.
func (r *Client) headChallenged(ctx context.Context, ref name.Reference, challenges []string) (v1.Hash, error) {
	user, password, ok := r.basicCredentials(ref)
	if !ok || !hasBasicChallenge(challenges) {
		return r.ggcrHead(ctx, ref)
	}
	req, err := headRequest(ctx, ref)
	if err != nil {
		return v1.Hash{}, err
	}
	req.SetBasicAuth(user, password)
	resp, err := r.transport.RoundTrip(req)
	if err != nil {
		return r.ggcrHead(ctx, ref)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
			return h, nil
		}
		return r.ggcrHead(ctx, ref)
	}
	return v1.Hash{}, headError(req, resp, ref)
}

func headRequest(ctx context.Context, ref name.Reference) (*http.Request, error) {
	reg := ref.Context().Registry
	u := fmt.Sprintf("%s://%s/v2/%s/manifests/%s", reg.Scheme(), reg.RegistryStr(), ref.Context().RepositoryStr(), ref.Identifier())
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", manifestAccept)
	return req, nil
}

// hasCredentials tells whether the keychain holds credentials for ref's
// registry.
func (r *Client) hasCredentials(ref name.Reference) bool {
	auth, err := r.keychain.Resolve(ref.Context())
	return err == nil && auth != authn.Anonymous
}

// basicCredentials are the keychain's user and password for ref's
// registry, when it has such (not tokens).
func (r *Client) basicCredentials(ref name.Reference) (user, password string, ok bool) {
	auth, err := r.keychain.Resolve(ref.Context())
	if err != nil || auth == authn.Anonymous {
		return "", "", false
	}
	cfg, err := auth.Authorization()
	if err != nil || cfg.Username == "" || cfg.Password == "" || cfg.RegistryToken != "" || cfg.IdentityToken != "" {
		return "", "", false
	}
	return cfg.Username, cfg.Password, true
}

func hasBasicChallenge(challenges []string) bool {
	for _, c := range challenges {
		scheme, _, _ := strings.Cut(strings.TrimSpace(c), " ")
		if strings.EqualFold(scheme, "basic") {
			return true
		}
	}
	return false
}

func headError(req *http.Request, resp *http.Response, ref name.Reference) error {
	return &transport.Error{StatusCode: resp.StatusCode, Request: req,
		Errors: []transport.Diagnostic{{Code: transport.UnknownErrorCode, Message: "HEAD " + ref.String() + ": " + resp.Status}}}
}

func (r *Client) ggcrHead(ctx context.Context, ref name.Reference) (v1.Hash, error) {
	desc, err := remote.Head(ref, r.Options(ctx)...)
	if err != nil {
		return v1.Hash{}, err
	}
	return desc.Digest, nil
}
