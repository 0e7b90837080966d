package resolver

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/lockfile"
	"github.com/devcache/devcache/devcontainer/plan"
)

// prefetchLimit bounds the concurrent resolutions of prefetch.
const prefetchLimit = 8

// prefetch resolves the config's own references — its image or the
// Dockerfile's images for each platform, and its features with their
// lockfile pins — concurrently through res, whose results are remembered
// (onceImages for images, resolve.Client's source cache for features), so
// that the Plan's sequential walk finds them resolved: a probe of a config
// with mutable references waits for the slowest of them, not their sum.
// Errors are dropped here; the Plan's own resolution reports them with the
// config's context. Features' dependencies are resolved by the walk.
func prefetch(ctx context.Context, ws string, cfg *devcontainer.Config, res plan.Resolver, platforms []string, mode plan.LockMode) {
	var jobs []func()
	for _, p := range platforms {
		if p == "" {
			p = "linux/" + runtime.GOARCH // plan's default
		}
		var refs []string
		switch {
		case cfg.Kind == devcontainer.KindImage && cfg.Image != "":
			refs = []string{cfg.Image}
		case cfg.Kind == devcontainer.KindDockerfile && cfg.Build != nil:
			imgs, _ := readDockerfileImages(cfg.Build, p, true)
			for _, img := range imgs {
				refs = append(refs, img.Ref)
			}
		}
		for _, ref := range refs {
			jobs = append(jobs, func() { _, _ = res.ResolveImage(ctx, ref, p) })
		}
	}
	pins := map[string]string{}
	if mode != plan.LockNone && len(cfg.Features) > 0 {
		if st, err := lockfile.Read(lockfile.Path(filepath.FromSlash(cfg.Path))); err == nil && st.Lock != nil {
			pins = st.Lock.Pins()
		}
	}
	rc := features.RefContext{ConfigPath: cfg.Path, Workspace: filepath.ToSlash(ws)}
	for _, f := range cfg.Features {
		ref, err := features.ParseRef(f.Key, rc)
		if err != nil || ref.Kind == features.KindLocal {
			continue
		}
		pin := ""
		switch ref.Kind {
		case features.KindOCI:
			pin = pins[ref.ID]
		case features.KindTarball:
			pin = pins[ref.TarballURL]
		}
		jobs = append(jobs, func() { _, _ = res.Resolve(ctx, ref, pin) })
	}
	if len(jobs) < 2 {
		return // nothing to overlap
	}
	sem := make(chan struct{}, prefetchLimit)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			j()
		}()
	}
	wg.Wait()
}
