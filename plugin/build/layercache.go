package build

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/client"

	"github.com/devcache/devcache/plugin/cache"
)

// LayerCache is where a build finds (and push or a cache directory stores)
// the layers of earlier builds of its scope: the registry refs
// <cache-repo>:cache-dc-<key> (this key's last push, cache.KeyCacheTag)
// and <cache-repo>:cache-<scope> (the scope's last push), and/or a local
// directory.
type LayerCache struct {
	Repo  *name.Repository // the cache repository; nil without
	Dir   string           // absolute local cache directory; "" without
	Scope string           // cache.Scope
	Key   string           // plan.KeyOf of the solve's plans; "" for none
}

// registryTags are the registry tags of the layer cache, the key's first.
func (l LayerCache) registryTags() []string {
	if l.Key == "" {
		return []string{cache.ScopeTag(l.Scope)}
	}
	return []string{cache.KeyCacheTag(l.Key), cache.ScopeTag(l.Scope)}
}

// Aliases are the registry tags that hold the same layer cache as the one
// Exports writes (the scope's, when the cache is also the key's): written
// by Solve once that export succeeded (Request.CacheAliases).
func (l LayerCache) Aliases() []name.Tag {
	if l.Repo == nil {
		return nil
	}
	var out []name.Tag
	for _, tag := range l.registryTags()[1:] {
		out = append(out, l.Repo.Tag(tag))
	}
	return out
}

// Imports are the cache sources: reading needs pull access only.
func (l LayerCache) Imports() []client.CacheOptionsEntry {
	var out []client.CacheOptionsEntry
	if l.Repo != nil {
		for _, tag := range l.registryTags() {
			out = append(out, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{
				"ref": l.Repo.Tag(tag).String(),
			}})
		}
	}
	if l.Dir != "" {
		out = append(out, client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{
			"src": l.Dir, "tag": cache.ScopeTag(l.Scope),
		}})
	}
	return out
}

// Exports store every intermediate layer (mode=max) as one OCI image
// manifest (image-manifest=true, which registries such as ECR need), so an
// edit that changes the key still reuses every unchanged step.
// registryExport says whether to write the registry ref (push only). The
// error names the directory.
func (l LayerCache) Exports(registryExport bool) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	// One registry export, to the first tag; the others get its manifest
	// by a tag write (Aliases): exported twice, the same manifest would be
	// uploaded twice at once (BuildKit runs the exports concurrently), and
	// registries refuse one of two concurrent writes of a manifest.
	if l.Repo != nil && registryExport {
		out = append(out, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{
			"ref":            l.Repo.Tag(l.registryTags()[0]).String(),
			"mode":           "max",
			"image-manifest": "true",
			"oci-mediatypes": "true",
		}})
	}
	if l.Dir != "" {
		if err := os.MkdirAll(l.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("layer cache directory: %w", err)
		}
		out = append(out, client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{
			"dest": l.Dir, "tag": cache.ScopeTag(l.Scope), "mode": "max",
		}})
	}
	// The image is the product, the registry layer cache a speed-up: its
	// export failing must not fail, nor (BuildKit runs both at once)
	// cancel, the image's push. Solve reports its error
	// (Response.CacheExportErrors) for push to warn. A --cache-dir that
	// cannot be written (a full disk) fails the solve: the user asked
	// for it on this machine.
	for _, e := range RegistryCaches(out, true) {
		e.Attrs["ignore-error"] = "true"
	}
	return out, nil
}

// RegistryCaches are the registry layer caches of exports (registry true)
// or the others (false): push exports the registry's after the image.
func RegistryCaches(exports []client.CacheOptionsEntry, registry bool) []client.CacheOptionsEntry {
	var out []client.CacheOptionsEntry
	for _, e := range exports {
		if (e.Type == "registry") == registry {
			out = append(out, e)
		}
	}
	return out
}
