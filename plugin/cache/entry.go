package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/registry"
)

// Annotations of a cache entry's manifest (or index, for several
// platforms), as documented in docs/cache-commands.md. push writes them;
// probe, prune and warm read them. All are optional: an entry without them
// still hits, but --explain cannot compare against it. Its age is the
// created annotation of the manifest, else of its build-info referrer
// (buildinfo.go), else the image config's "created".
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

// Entry is one <cache-repo>:dc-<key> (pointer) or dc-<key>-<gen>
// (generation) entry.
type Entry struct {
	Tag    string
	Digest v1.Hash
	// Created is the entry's org.opencontainers.image.created annotation,
	// else that of its newest build-info referrer (what push writes), else
	// the image config's created; zero when none is known.
	Created time.Time
	Scope   string
	Plans   []*plan.Plan
}

// ReadEntry reads an entry's manifest (and, without the created annotation,
// its config) to learn its age, scope and Plans.
func ReadEntry(ctx context.Context, r *registry.Client, repo name.Repository, tag string) (*Entry, error) {
	desc, err := remote.Get(repo.Tag(tag), r.Options(ctx)...)
	if err != nil {
		return nil, err
	}
	e := &Entry{Tag: tag, Digest: desc.Digest}
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
		info, ok, err := ReadBuildInfo(ctx, r, repo, desc.Digest)
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

// ListEntries reads every entry of repo (8 at a time), newest first: one
// per pointer tag and one per generation tag (tag.go), so a generation the
// pointer names appears twice with one digest. A repository that does not
// exist has no entries.
func ListEntries(ctx context.Context, r *registry.Client, repo name.Repository) ([]*Entry, error) {
	tags, err := listTags(ctx, r, repo)
	if err != nil {
		return nil, err
	}
	var keyTags []string
	for _, t := range tags {
		if _, ok := KeyOfEntryTag(t); ok {
			keyTags = append(keyTags, t)
		}
	}
	entries := make([]*Entry, len(keyTags))
	errs := make([]error, len(keyTags))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, t := range keyTags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			entries[i], errs[i] = ReadEntry(ctx, r, repo, t)
		}()
	}
	wg.Wait()
	var out []*Entry
	for i, e := range entries {
		switch {
		case errs[i] == nil:
			out = append(out, e)
		case registry.IsNotFound(errs[i]):
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

// listTags lists the tags of repo; a repository that does not exist has
// none.
func listTags(ctx context.Context, r *registry.Client, repo name.Repository) ([]string, error) {
	tags, err := remote.List(repo, r.Options(ctx)...)
	if err != nil {
		if registry.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing the tags of %s: %w", repo, err)
	}
	return tags, nil
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
