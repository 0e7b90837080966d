package warm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/devcache/devcache/internal/atomicfile"
)

// How warm writes its OCI layout so that any number of warms into one
// directory, in any processes, lose nothing: blobs are content-addressed
// and appear whole under their digest (written to a temporary file,
// verified, renamed), and index.json is read-modify-written under a lock
// file next to it (index.json.lock) and replaced atomically. go-containerregistry's
// layout.Path writes index.json in place and without a lock, so warm does
// not use its Append/Remove methods.

// ociLayoutFile is the content of the layout's oci-layout file.
const ociLayoutFile = `{"imageLayoutVersion":"1.0.0"}`

// createWarmLayout makes dir an empty OCI layout unless another process
// made it one meanwhile.
func createWarmLayout(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	err := atomicfile.Update(filepath.Join(dir, "index.json"), 0o644, func(cur []byte) ([]byte, error) {
		if cur != nil {
			return nil, nil
		}
		if err := atomicfile.Write(filepath.Join(dir, "oci-layout"), []byte(ociLayoutFile), 0o644); err != nil {
			return nil, err
		}
		return marshalIndex(&v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex})
	})
	if err != nil {
		return fmt.Errorf("creating the OCI layout %s: %w", dir, err)
	}
	return nil
}

// record puts d into index.json in place of any descriptor of the same
// reference and platform, keeping every other entry, also those another
// warm added since this one opened the layout.
func (w *Layout) record(d v1.Descriptor) error {
	p := filepath.Join(string(w.path), "index.json")
	var updated *v1.IndexManifest
	err := atomicfile.Update(p, 0o644, func(cur []byte) ([]byte, error) {
		var im v1.IndexManifest
		if err := json.Unmarshal(cur, &im); err != nil {
			return nil, fmt.Errorf("%s: %w (restore it or remove the directory and warm again)", p, err)
		}
		kept := []v1.Descriptor{}
		for _, o := range im.Manifests {
			if o.Annotations[annotationRefName] != d.Annotations[annotationRefName] || o.Annotations[annotationWarmPlatform] != d.Annotations[annotationWarmPlatform] {
				kept = append(kept, o)
			}
		}
		im.Manifests = append(kept, d)
		updated = &im
		return marshalIndex(&im)
	})
	if err != nil {
		return fmt.Errorf("recording %s in %s: %w", d.Annotations[annotationRefName], p, err)
	}
	w.index = updated
	return nil
}

func marshalIndex(im *v1.IndexManifest) ([]byte, error) {
	if im.Manifests == nil {
		im.Manifests = []v1.Descriptor{}
	}
	b, err := json.MarshalIndent(im, "", "  ")
	return append(b, '\n'), err
}

// writeBlob stores r as the blob h of the layout, whole or not at all: r
// is checked against h (and size, unless negative) before the blob
// appears under its name.
func (w *Layout) writeBlob(h v1.Hash, size int64, r io.Reader) error {
	if h.Algorithm != "sha256" {
		return fmt.Errorf("blob %s: only sha256 digests are supported", h)
	}
	dir := filepath.Join(string(w.path), "blobs", h.Algorithm)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	v := &verifyingReader{r: r, want: h, size: size, h: sha256.New()}
	return atomicfile.WriteFrom(filepath.Join(dir, h.Hex), v, 0o644)
}

// verifyingReader passes r through and, at its end, fails unless the
// content had the wanted digest and size.
type verifyingReader struct {
	r    io.Reader
	want v1.Hash
	size int64
	n    int64
	h    hash.Hash
}

func (v *verifyingReader) Read(b []byte) (int, error) {
	n, err := v.r.Read(b)
	v.h.Write(b[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if v.size >= 0 && v.n != v.size {
			return n, fmt.Errorf("blob %s: got %d bytes, want %d", v.want, v.n, v.size)
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.Hex {
			return n, fmt.Errorf("blob %s: content has digest sha256:%s", v.want, got)
		}
	}
	return n, err
}
