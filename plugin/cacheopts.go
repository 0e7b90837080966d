package plugin

import (
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/client"
	"github.com/pkg/errors"
)

// layerCache is where a build finds (and push or --cache-dir stores) the
// layers of earlier builds of its scope: the registry ref
// <cache-repo>:cache-<scope> and/or a local directory.
type layerCache struct {
	repo  *name.Repository // --cache-repo; nil without
	dir   string           // --cache-dir; "" without
	scope string
}

// imports are the cache sources: reading needs pull access only.
func (l layerCache) imports() []client.CacheOptionsEntry {
	var out []client.CacheOptionsEntry
	if l.repo != nil {
		out = append(out, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{
			"ref": l.repo.Tag(scopeTag(l.scope)).String(),
		}})
	}
	if l.dir != "" {
		out = append(out, client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{
			"src": l.dir, "tag": scopeTag(l.scope),
		}})
	}
	return out
}

// exports store every intermediate layer (mode=max) as one OCI image
// manifest (image-manifest=true, which registries such as ECR need), so an
// edit that changes the key still reuses every unchanged step.
// registryExport says whether to write the registry ref (push only).
func (l layerCache) exports(registryExport bool) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	if l.repo != nil && registryExport {
		out = append(out, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{
			"ref":            l.repo.Tag(scopeTag(l.scope)).String(),
			"mode":           "max",
			"image-manifest": "true",
			"oci-mediatypes": "true",
			// The image is the product, the layer cache a speed-up: a
			// registry that refuses the cache manifest must not lose the
			// push (BuildKit reports the error in the progress output).
			"ignore-error": "true",
		}})
	}
	if l.dir != "" {
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			return nil, errors.Wrap(err, "--cache-dir")
		}
		out = append(out, client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{
			"dest": l.dir, "tag": scopeTag(l.scope), "mode": "max",
		}})
	}
	return out, nil
}

// absDir makes --cache-dir absolute ("" stays "").
func absDir(d string) (string, error) {
	if d == "" {
		return "", nil
	}
	a, err := filepath.Abs(d)
	return a, errors.Wrap(err, "--cache-dir")
}
