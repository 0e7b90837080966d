package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/devcache/devcache/devcontainer/plan"
)

// Annotations of a cache entry's manifest (or index, for several
// platforms), as documented in docs/cache-entries.md. push writes them;
// probe, prune and warm read them. All are optional: an entry without them
// still hits, but --explain cannot compare against it. Its age is the
// created annotation of the manifest, else of its build-info referrer
// (cachebuildinfo.go), else the image config's "created".
const (
	// AnnotationPlans is the JSON array of the entry's canonical Plans,
	// one per platform in platform order (what the key hashes).
	AnnotationPlans = "dev.devcache.plans"
	// AnnotationScope is the cache scope (default: the config's path in
	// the workspace, Plan.ConfigFile).
	AnnotationScope = "dev.devcache.scope"
	// AnnotationCreated is when the entry was pushed (RFC 3339).
	AnnotationCreated = "org.opencontainers.image.created"
)

// cacheEntry is one <cache-repo>:dc-<key> entry.
type cacheEntry struct {
	Tag    string
	Digest v1.Hash
	// Created is the entry's org.opencontainers.image.created annotation,
	// else that of its newest build-info referrer (what push writes), else
	// the image config's created; zero when none is known.
	Created time.Time
	Scope   string
	Plans   []*plan.Plan
}

// isNotFound tells whether err is a registry's "no such manifest or
// repository" (404), the only error that means a miss.
func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// readEntry reads an entry's manifest (and, without the created annotation,
// its config) to learn its age, scope and Plans.
func (r *registry) readEntry(ctx context.Context, repo name.Repository, tag string) (*cacheEntry, error) {
	desc, err := remote.Get(repo.Tag(tag), r.options(ctx)...)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{Tag: tag, Digest: desc.Digest}
	var (
		ann      map[string]string
		firstImg func() (v1.Image, error)
	)
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("%s:%s: %w", repo, tag, err)
		}
		ann = im.Annotations
		firstImg = func() (v1.Image, error) {
			for _, m := range im.Manifests {
				if m.MediaType.IsImage() && (m.Platform == nil || m.Platform.OS != "unknown") {
					return idx.Image(m.Digest)
				}
			}
			return nil, fmt.Errorf("%s:%s: index has no image", repo, tag)
		}
	} else {
		var m v1.Manifest
		if err := json.Unmarshal(desc.Manifest, &m); err != nil {
			return nil, fmt.Errorf("%s:%s: manifest: %w", repo, tag, err)
		}
		ann = m.Annotations
		firstImg = desc.Image
	}
	if s := ann[AnnotationCreated]; s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			e.Created = t
		}
	}
	if e.Created.IsZero() {
		// push records the time beside the reproducible image, in its
		// build-info referrer.
		info, ok, err := r.readBuildInfo(ctx, repo, desc.Digest)
		if err != nil {
			return nil, err
		}
		if ok {
			e.Created = info.Created
		}
	}
	if e.Created.IsZero() {
		img, err := firstImg()
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("%s:%s: image config: %w", repo, tag, err)
		}
		e.Created = cf.Created.Time
	}
	if s := ann[AnnotationPlans]; s != "" {
		if err := json.Unmarshal([]byte(s), &e.Plans); err != nil {
			return nil, fmt.Errorf("%s:%s: annotation %s: %w", repo, tag, AnnotationPlans, err)
		}
	}
	e.Scope = ann[AnnotationScope]
	if e.Scope == "" && len(e.Plans) > 0 {
		e.Scope = e.Plans[0].ConfigFile
	}
	return e, nil
}

// listEntries reads every key-tag entry of repo (8 at a time), newest
// first. A repository that does not exist has no entries.
func (r *registry) listEntries(ctx context.Context, repo name.Repository) ([]*cacheEntry, error) {
	tags, err := remote.List(repo, r.options(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing the tags of %s: %w", repo, err)
	}
	var keyTags []string
	for _, t := range tags {
		if isKeyTag(t) {
			keyTags = append(keyTags, t)
		}
	}
	entries := make([]*cacheEntry, len(keyTags))
	errs := make([]error, len(keyTags))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, t := range keyTags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			entries[i], errs[i] = r.readEntry(ctx, repo, t)
		}()
	}
	wg.Wait()
	var out []*cacheEntry
	for i, e := range entries {
		switch {
		case errs[i] == nil:
			out = append(out, e)
		case isNotFound(errs[i]):
			// deleted since the listing
		default:
			return nil, fmt.Errorf("reading %s:%s: %w", repo, keyTags[i], errs[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Tag < out[j].Tag
	})
	return out, nil
}

// PlansAnnotation is the value of AnnotationPlans for plans: what push
// should write so that probe --explain can compare.
func PlansAnnotation(plans []*plan.Plan) string {
	raws := make([]json.RawMessage, len(plans))
	for i, p := range plans {
		raws[i] = json.RawMessage(p.JSON())
	}
	b, err := json.Marshal(raws)
	if err != nil {
		panic(err)
	}
	return string(b)
}
