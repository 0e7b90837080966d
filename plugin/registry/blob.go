package registry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// HasBlob tells whether repo holds the blob d (a HEAD of it): nil when it
// does, a *transport.Error with status 404 when it does not (IsNotFound),
// another error when the registry could not say.
func (c *Client) HasBlob(ctx context.Context, repo name.Repository, d v1.Hash) error {
	auth, err := c.keychain.Resolve(repo)
	if err != nil {
		return fmt.Errorf("credentials for %s: %w", repo, err)
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, auth, c.transport, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return err
	}
	reg := repo.Registry
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", reg.Scheme(), reg.RegistryStr(), repo.RepositoryStr(), d)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return transport.CheckError(resp, http.StatusOK)
}
