package resolve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
		var err error
		if data, err = c.download(ctx, ref.TarballURL); err != nil {
			return nil, nil, err
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

// download reads a tarball feature's archive, bounded by MaxDownload,
// through Options.Download or else with an HTTP GET.
func (c *Client) download(ctx context.Context, url string) ([]byte, error) {
	get := c.o.Download
	if get == nil {
		get = c.httpGet
	}
	body, err := get(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, c.o.MaxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	if int64(len(data)) > c.o.MaxDownload {
		return nil, fmt.Errorf("%s is larger than %d bytes", url, c.o.MaxDownload)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s returned no content", url)
	}
	return data, nil
}

// httpGet is the default Download: a GET with Options.HTTPClient, sending
// the reference CLI's User-Agent.
func (c *Client) httpGet(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "devcontainer")
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, errors.New(resp.Status)
	}
	return resp.Body, nil
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
