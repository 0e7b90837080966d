package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"

	"github.com/devcache/devcache/devcontainer"
)

// Annotations of the OCI layout that warm writes (docs/cache-commands.md).
// Every warmed reference is one descriptor in index.json: the image
// manifest for the platform (or the feature artifact), annotated with the
// reference as written, what it pointed to when fetched, and the platform.
const (
	annotationRefName      = "org.opencontainers.image.ref.name"
	annotationWarmDigest   = "dev.devcache.warm.digest"
	annotationWarmPlatform = "dev.devcache.warm.platform"
)

// warmLayout is the OCI layout directory of warm.
type warmLayout struct {
	path  layout.Path
	index *v1.IndexManifest
}

// openWarmLayout opens dir as an OCI layout, creating it when absent
// (warm_index.go: safe against a concurrent warm creating it too).
func openWarmLayout(dir string) (*warmLayout, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); errors.Is(err, fs.ErrNotExist) {
		if err := createWarmLayout(dir); err != nil {
			return nil, err
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI layout: %w", dir, err)
	}
	w := &warmLayout{path: p}
	return w, w.reload()
}

func (w *warmLayout) reload() error {
	idx, err := w.path.ImageIndex()
	if err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("reading %s/index.json: %w", w.path, err)
	}
	w.index = im
	return nil
}

// find returns the descriptor warmed for (what the reference pointed to,
// platform), when its blobs are all present.
func (w *warmLayout) find(pointedTo, platform string) (*v1.Descriptor, bool) {
	for i := range w.index.Manifests {
		d := &w.index.Manifests[i]
		if (d.Annotations[annotationWarmDigest] == pointedTo || d.Digest.String() == pointedTo) && d.Annotations[annotationWarmPlatform] == platform {
			if w.complete(d.Digest) {
				return d, true
			}
		}
	}
	return nil, false
}

// complete tells whether the manifest digest and all its blobs are present.
func (w *warmLayout) complete(h v1.Hash) bool {
	img, err := w.path.Image(h)
	if err != nil {
		return false
	}
	m, err := img.Manifest()
	if err != nil {
		return false
	}
	for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		if !w.hasBlob(d.Digest, d.Size) {
			return false
		}
	}
	return true
}

func (w *warmLayout) hasBlob(h v1.Hash, size int64) bool {
	fi, err := os.Stat(filepath.Join(string(w.path), "blobs", h.Algorithm, h.Hex))
	return err == nil && (size < 0 || fi.Size() == size)
}

// add writes img's blobs that are missing (reading a remote layer only
// then) and records it for ref (replacing an older descriptor of the same
// reference and platform).
func (w *warmLayout) add(img v1.Image, ref, as, pointedTo, platform string) (downloaded int, err error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	for _, l := range m.Layers {
		if w.hasBlob(l.Digest, l.Size) {
			continue
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return downloaded, err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return downloaded, fmt.Errorf("downloading %s of %s: %w", l.Digest, ref, err)
		}
		err = w.writeBlob(l.Digest, l.Size, rc)
		rc.Close()
		if err != nil {
			return downloaded, fmt.Errorf("writing %s of %s: %w", l.Digest, ref, err)
		}
		downloaded++
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return downloaded, err
	}
	if err := w.writeBytes(m.Config.Digest, rawCfg); err != nil {
		return downloaded, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return downloaded, err
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		return downloaded, err
	}
	if err := w.writeBytes(desc.Digest, raw); err != nil {
		return downloaded, err
	}
	d := v1.Descriptor{MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest, Annotations: map[string]string{
		annotationRefName: ref, annotationWarmDigest: pointedTo, annotationWarmPlatform: platform,
	}}
	if as != "" {
		d.Annotations[annotationWarmAs] = normalizedRef(as)
	}
	if platform != "" {
		if p, err := v1.ParsePlatform(platform); err == nil {
			d.Platform = p
		}
	}
	return downloaded, w.record(d)
}

func (w *warmLayout) writeBytes(h v1.Hash, data []byte) error {
	if w.hasBlob(h, int64(len(data))) {
		return nil
	}
	return w.writeBlob(h, int64(len(data)), bytes.NewReader(data))
}

// image is what the layout holds for a resolved image: the
// devcontainer.Image a resolver would return.
func (w *warmLayout) image(ref, platform string, d *v1.Descriptor) (*devcontainer.Image, error) {
	img, err := w.path.Image(d.Digest)
	if err != nil {
		return nil, err
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	var cf v1.ConfigFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		return nil, err
	}
	return &devcontainer.Image{Ref: ref, Digest: d.Annotations[annotationWarmDigest], ManifestDigest: d.Digest.String(), Platform: platform,
		User: cf.Config.User, Env: cf.Config.Env, Labels: cf.Config.Labels}, nil
}
