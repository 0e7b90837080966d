package plugin

import (
	"context"
	"github.com/containerd/containerd/v2/core/content"
	"io"
	"path/filepath"
	"strings"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/frontend"
	"github.com/devcache/devcache/internal/policy"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/pkg/errors"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// solveRequest is one in-process frontend build.
type solveRequest struct {
	ws           *workspace
	exports      []client.ExportEntry
	cacheImports []client.CacheOptionsEntry
	cacheExports []client.CacheOptionsEntry
	buildArgs    map[string]string
	noCache      bool
	// plans are the client's resolved Plans, handed to the frontend
	// (frontend.PlanOpt) so that it builds exactly what was keyed; their
	// platforms are the build's.
	plans []*plan.Plan
	// allow is the source policy (--allow, as policy.Policy.Attr): sent to
	// buildkitd with the pins (solvePolicy) and to the frontend
	// (frontend.AllowOpt).
	allow string
	// warm is the --base-image-cache-dir layout, attached to the session.
	warm *warmLayout
}

// solve runs the devcache frontend in this process against the builder,
// with the user's registry credentials, showing BuildKit's progress display.
func (o *rootOptions) solve(ctx context.Context, c *client.Client, req solveRequest, progressOut io.Writer) (*client.SolveResponse, error) {
	contextFS, err := fsutil.NewFS(req.ws.Folder)
	if err != nil {
		return nil, errors.Wrapf(err, "open workspace %s", req.ws.Folder)
	}
	configDir := filepath.Dir(req.ws.ConfigPath)
	configFS, err := fsutil.NewFS(configDir)
	if err != nil {
		return nil, errors.Wrapf(err, "open %s", configDir)
	}

	attrs := map[string]string{
		"filename": filepath.Base(req.ws.ConfigPath),
	}
	if rel, err := filepath.Rel(req.ws.Folder, req.ws.ConfigPath); err == nil && !strings.HasPrefix(rel, "..") {
		attrs["build-arg:DEVCACHE_CONFIG_PATH"] = filepath.ToSlash(rel)
	}
	switch {
	case len(req.plans) > 0:
		attrs[frontend.PlanOpt] = plansAttr(req.plans)
		attrs["platform"] = planPlatforms(req.plans)
	case len(o.platforms) > 0:
		attrs["platform"] = strings.Join(o.platforms, ",")
	}
	if req.noCache {
		attrs["no-cache"] = ""
	}
	if req.allow != "" {
		attrs[frontend.AllowOpt] = req.allow
	}
	var ociStores map[string]content.Store
	if req.warm != nil {
		ws, err := req.warm.solve(req.plans)
		if err != nil {
			return nil, err
		}
		for k, v := range ws.attrs {
			attrs[k] = v
		}
		ociStores = map[string]content.Store{warmStoreID: ws.store}
	}
	for k, v := range req.buildArgs {
		attrs["build-arg:"+k] = v
	}

	allow, err := policy.Parse([]string{req.allow})
	if err != nil {
		return nil, err
	}
	opt := client.SolveOpt{
		Exports:       req.exports,
		FrontendAttrs: attrs,
		LocalMounts: map[string]fsutil.FS{
			"context":    contextFS,
			"dockerfile": configFS,
		},
		CacheImports: req.cacheImports,
		OCIStores:    ociStores,
		SourcePolicy: solvePolicy(req.plans, allow),
		CacheExports: req.cacheExports,
		Session:      []session.Attachable{sessionAuth(o.credentials())},
	}

	mode := progressui.DisplayMode(o.progress)
	display, err := progressui.NewDisplay(progressOut, mode)
	if err != nil {
		return nil, errors.Wrapf(err, "--progress %s", o.progress)
	}
	ch := make(chan *client.SolveStatus)
	var resp *client.SolveResponse
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ctx, opt, "", frontend.Build, ch)
		return err
	})
	eg.Go(func() error {
		_, err := display.UpdateFrom(context.WithoutCancel(ctx), ch)
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, allow.Explain(err)
	}
	return resp, nil
}
