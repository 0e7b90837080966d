package warm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
)

// Annotations of the OCI layout that warm writes (docs/cache-commands.md).
// Every warmed reference is one descriptor in index.json: the image
// manifest for the platform (or the feature artifact), annotated with the
// reference as written, what it pointed to when fetched, and the platform.
const (
	annotationRefName      = "org.opencontainers.image.ref.name"
	annotationWarmDigest   = "dev.devcache.warm.digest"
	annotationWarmPlatform = "dev.devcache.warm.platform"
	// annotationWarmAs records the reference as the config wrote it (a
	// tag, normalised): what lets a build resolve that tag from the layout
	// with no registry at all.
	annotationWarmAs = "dev.devcache.warm.as"
)

// Layout is the OCI layout directory of warm.
type Layout struct {
	path  layout.Path
	index *v1.IndexManifest
}

// OpenExisting opens dir, which warm must have filled (it holds
// index.json), for reading.
func OpenExisting(dir string) (*Layout, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil, fmt.Errorf("%s: not a `docker devcache warm` directory: %w", dir, err)
	}
	return Open(dir)
}

// Open opens dir as an OCI layout, creating it when absent (index.go:
// safe against a concurrent warm creating it too).
func Open(dir string) (*Layout, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); errors.Is(err, fs.ErrNotExist) {
		if err := createWarmLayout(dir); err != nil {
			return nil, err
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI layout: %w", dir, err)
	}
	w := &Layout{path: p}
	return w, w.reload()
}

func (w *Layout) reload() error {
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

// Dir is the layout's directory.
func (w *Layout) Dir() string { return string(w.path) }

// Find returns the descriptor warmed for (what the reference pointed to,
// platform), when its blobs are all present.
func (w *Layout) Find(pointedTo, platform string) (*v1.Descriptor, bool) {
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
func (w *Layout) complete(h v1.Hash) bool {
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

func (w *Layout) hasBlob(h v1.Hash, size int64) bool {
	fi, err := os.Stat(filepath.Join(string(w.path), "blobs", h.Algorithm, h.Hex))
	return err == nil && (size < 0 || fi.Size() == size)
}

// Add writes img's blobs that are missing (reading a remote layer only
// then) and records it for ref (replacing an older descriptor of the same
// reference and platform).
func (w *Layout) Add(img v1.Image, ref, as, pointedTo, platform string) (downloaded int, err error) {
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
		d.Annotations[annotationWarmAs] = NormalizedRef(as)
	}
	if platform != "" {
		if p, err := v1.ParsePlatform(platform); err == nil {
			d.Platform = p
		}
	}
	return downloaded, w.record(d)
}

func (w *Layout) writeBytes(h v1.Hash, data []byte) error {
	if w.hasBlob(h, int64(len(data))) {
		return nil
	}
	return w.writeBlob(h, int64(len(data)), bytes.NewReader(data))
}

// Image is what the layout holds for a resolved image (d from Find or
// FindAs): the devcontainer.Image a resolver would return.
func (w *Layout) Image(ref, platform string, d *v1.Descriptor) (*devcontainer.Image, error) {
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
		User: cf.Config.User, Env: cf.Config.Env, Labels: cf.Config.Labels, OnBuild: cf.Config.OnBuild}, nil
}

// NormalizedRef is ref in full form ("docker.io/library/x:latest"), or ref
// itself when it does not parse.
func NormalizedRef(ref string) string {
	n, err := name.ParseReference(ref)
	if err != nil {
		return ref
	}
	return n.Name()
}

// FindAs returns the warmed descriptor of a reference as written, for
// platform ("" matches descriptors without one).
func (w *Layout) FindAs(ref, platform string) (*v1.Descriptor, bool) {
	want := NormalizedRef(ref)
	for i := range w.index.Manifests {
		d := &w.index.Manifests[i]
		if d.Annotations[annotationWarmAs] == want && d.Annotations[annotationWarmPlatform] == platform && w.complete(d.Digest) {
			return d, true
		}
	}
	return nil, false
}

// FeatureTagRef is an OCI feature's tag reference, as warm records it.
func FeatureTagRef(o *features.OCIRef) string {
	return o.Registry + "/" + o.Path + ":" + o.Tag
}
