package plugin

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestAccept are the manifest types a HEAD accepts.
var manifestAccept = strings.Join([]string{
	string(types.OCIImageIndex), string(types.OCIManifestSchema1),
	string(types.DockerManifestList), string(types.DockerManifestSchema2),
}, ", ")

// head resolves ref to its manifest digest with, where the registry allows
// it, a single request: a HEAD sent directly, anonymously or with the
// keychain's Basic credentials. Only when the registry answers 401 (token
// auth) or omits Docker-Content-Digest does it fall back to
// go-containerregistry's ping, token exchange and HEAD. A missing manifest
// is a *transport.Error with status 404, as from remote.Head.
func (r *registry) head(ctx context.Context, ref name.Reference) (v1.Hash, error) {
	reg := ref.Context().Registry
	u := fmt.Sprintf("%s://%s/v2/%s/manifests/%s", reg.Scheme(), reg.RegistryStr(), ref.Context().RepositoryStr(), ref.Identifier())
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return v1.Hash{}, err
	}
	req.Header.Set("Accept", manifestAccept)
	if auth, err := r.keychain.Resolve(ref.Context()); err == nil && auth != authn.Anonymous {
		if cfg, err := auth.Authorization(); err == nil && cfg.Username != "" && cfg.Password != "" && cfg.RegistryToken == "" && cfg.IdentityToken == "" {
			req.SetBasicAuth(cfg.Username, cfg.Password)
		}
	}
	resp, err := r.transport.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return v1.Hash{}, fmt.Errorf("HEAD %s: %w", u, ctx.Err())
		}
		// TLS or scheme trouble: let ggcr's fallbacks (https then http for
		// insecure hosts) decide.
		return r.ggcrHead(ctx, ref)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
			return h, nil
		}
		return r.ggcrHead(ctx, ref)
	case resp.StatusCode == http.StatusUnauthorized:
		return r.ggcrHead(ctx, ref)
	}
	return v1.Hash{}, &transport.Error{StatusCode: resp.StatusCode, Request: req,
		Errors: []transport.Diagnostic{{Code: transport.UnknownErrorCode, Message: "HEAD " + ref.String() + ": " + resp.Status}}}
}

func (r *registry) ggcrHead(ctx context.Context, ref name.Reference) (v1.Hash, error) {
	desc, err := remote.Head(ref, r.options(ctx)...)
	if err != nil {
		return v1.Hash{}, err
	}
	return desc.Digest, nil
}
