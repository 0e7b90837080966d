package resolve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/payload"
	"github.com/devcache/devcache/internal/retry"
)

// Media types of features as `devcontainer features publish` pushes them.
const (
	FeatureConfigMediaType = "application/vnd.devcontainers"
	FeatureLayerMediaType  = "application/vnd.devcontainers.layer.v1+tar"
	MetadataAnnotation     = "dev.containers.metadata"
)

type ociManifest struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"config"`
	Layers []struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	} `json:"layers"`
	Annotations map[string]string `json:"annotations"`
}

// notProcessed is the reference's error for a feature it cannot fetch.
func notProcessed(id string, cause error) error {
	return fmt.Errorf("ERR: Feature '%s' could not be processed.  You may not have permission to access this Feature, or may not be logged in.  If the issue persists, report this to the Feature author. (%w)", id, cause)
}

// remoteOptions reuse the Client's puller: a repository's ping and token
// exchange happen once per Client, not once per request (a feature's
// manifest and then its layer, each image's manifest).
func (c *Client) remoteOptions(ctx context.Context) []remote.Option {
	if c.puller != nil {
		return []remote.Option{remote.WithContext(ctx), remote.Reuse(c.puller)}
	}
	return append(retry.RemoteOptions(), remote.WithContext(ctx), remote.WithAuthFromKeychain(c.o.Keychain), remote.WithTransport(c.o.Transport))
}

func (c *Client) resolveOCI(ctx context.Context, ref *features.Ref, pin string) (*features.Source, *payload.Tree, error) {
	o := ref.OCI
	repo, err := name.NewRepository(o.Registry+"/"+o.Path, name.WeakValidation)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid OCI reference %q: %w", ref.ID, err)
	}
	expected := pin
	if expected == "" {
		expected = o.Digest
	}
	var (
		body   []byte
		digest string
	)
	if expected != "" {
		body, _ = c.cacheGet(expected)
		digest = expected
	}
	if body == nil {
		var r name.Reference
		if expected != "" {
			r = repo.Digest(expected)
		} else {
			r = repo.Tag(o.Tag)
		}
		desc, err := remote.Get(r, c.remoteOptions(ctx)...)
		if err != nil {
			var te *transport.Error
			if errors.As(err, &te) && expected != "" && te.StatusCode < 500 {
				// The reference asks for the pinned digest and gets "not found".
				return nil, nil, notProcessed(ref.ID, fmt.Errorf("manifest %s@%s: %w", o.Resource, expected, err))
			}
			return nil, nil, notProcessed(ref.ID, err)
		}
		body = desc.Manifest
		sum := sha256.Sum256(body)
		digest = "sha256:" + hex.EncodeToString(sum[:])
		if expected != "" && digest != expected {
			return nil, nil, fmt.Errorf("Digest did not match for %s.", o.Resource)
		}
		c.cachePut(digest, body)
	}
	var m ociManifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, nil, notProcessed(ref.ID, fmt.Errorf("manifest %s: %w", digest, err))
	}
	if m.Config.MediaType != FeatureConfigMediaType {
		return nil, nil, notProcessed(ref.ID, fmt.Errorf("%s is not a dev container feature: unexpected manifest media type %q", o.Resource, m.Config.MediaType))
	}
	if len(m.Layers) == 0 {
		return nil, nil, notProcessed(ref.ID, fmt.Errorf("%s@%s has no layer", o.Resource, digest))
	}
	layer := m.Layers[0] // the reference always takes the first layer
	blob, err := c.fetchBlob(ctx, repo, layer.Digest)
	if err != nil {
		return nil, nil, fmt.Errorf("Failed to download package for %s: %w", o.Resource, err)
	}
	tree, err := payload.ReadArchive(bytes.NewReader(blob), payload.ArchiveOptions{Limits: c.o.Limits})
	if err != nil {
		return nil, nil, fmt.Errorf("%s@%s: %w", o.Resource, layer.Digest, err)
	}
	src := &features.Source{Ref: ref, ManifestDigest: digest, LayerDigest: layer.Digest, LayerSize: int64(len(blob))}
	if err := setPayloadMetadata(src, tree); err != nil {
		return nil, nil, err
	}
	if ann, ok := m.Annotations[MetadataAnnotation]; ok && ann != "" {
		md, err := features.ParseMetadataJSON(ref.UserFeatureID+": manifest annotation "+MetadataAnnotation, []byte(ann))
		if err != nil {
			return nil, nil, err
		}
		src.DepMetadata = md
	} else {
		src.DepMetadata = src.PayloadMetadata
	}
	return src, tree, nil
}

// fetchBlob returns a blob's verified content, from the disk cache when
// possible.
func (c *Client) fetchBlob(ctx context.Context, repo name.Repository, digest string) ([]byte, error) {
	if data, _ := c.cacheGet(digest); data != nil {
		return data, nil
	}
	l, err := remote.Layer(repo.Digest(digest), c.remoteOptions(ctx)...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, c.o.MaxDownload+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.o.MaxDownload {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", digest, c.o.MaxDownload)
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != digest {
		return nil, fmt.Errorf("blob digest %s does not match %s", got, digest)
	}
	c.cachePut(digest, data)
	return data, nil
}
