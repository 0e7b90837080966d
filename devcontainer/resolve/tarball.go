package resolve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/payload"
)

func (c *Client) resolveTarball(ctx context.Context, ref *features.Ref, pin string) (*features.Source, *payload.Tree, error) {
	var data []byte
	if pin != "" {
		data, _ = c.cacheGet(pin)
	}
	if data == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.TarballURL, nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("User-Agent", "devcontainer")
		resp, err := c.o.HTTPClient.Do(req)
		if err != nil {
			return nil, nil, fmt.Errorf("fetching %s: %w", ref.TarballURL, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode > 299 {
			return nil, nil, fmt.Errorf("fetching %s: %s", ref.TarballURL, resp.Status)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, c.o.MaxDownload+1))
		if err != nil {
			return nil, nil, fmt.Errorf("fetching %s: %w", ref.TarballURL, err)
		}
		if int64(len(data)) > c.o.MaxDownload {
			return nil, nil, fmt.Errorf("%s is larger than %d bytes", ref.TarballURL, c.o.MaxDownload)
		}
		if len(data) == 0 {
			return nil, nil, fmt.Errorf("%s returned no content", ref.TarballURL)
		}
	}
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if pin != "" && digest != pin {
		return nil, nil, fmt.Errorf("Digest did not match for %s.", ref.TarballURL)
	}
	c.cachePut(digest, data)
	tree, err := payload.ReadArchive(bytes.NewReader(data), payload.ArchiveOptions{Limits: c.o.Limits, TarballFilter: true})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ref.TarballURL, err)
	}
	src := &features.Source{Ref: ref, TarballDigest: digest}
	if err := setPayloadMetadata(src, tree); err != nil {
		return nil, nil, err
	}
	src.DepMetadata = src.PayloadMetadata
	return src, tree, nil
}

// setPayloadMetadata reads devcontainer-feature.json from the tree.
func setPayloadMetadata(src *features.Source, tree *payload.Tree) error {
	f, ok := tree.Get(features.MetadataFile)
	if !ok || f.Type != payload.TypeFile {
		return nil
	}
	m, err := features.ParseMetadataJSON(src.Ref.UserFeatureID+": "+features.MetadataFile, f.Data)
	if err != nil {
		return err
	}
	src.PayloadMetadata = m
	return nil
}
