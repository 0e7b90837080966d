package build

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/frontend"
	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/warm"
)

// Request is one in-process frontend build.
type Request struct {
	// ContextDir is the workspace folder (the build context); ConfigPath
	// the devcontainer.json inside or beside it.
	ContextDir, ConfigPath string
	// Plans are the client's resolved Plans, handed to the frontend
	// (frontend.PlanOpt) so that it builds exactly what was keyed; their
	// platforms are the build's.
	Plans []*plan.Plan
	// Platforms are the target platforms when there are no Plans.
	Platforms    []string
	Exports      []client.ExportEntry
	CacheImports []client.CacheOptionsEntry
	CacheExports []client.CacheOptionsEntry
	BuildArgs    map[string]string
	NoCache      bool
	// MultiPlatform makes the result an image index even of one platform
	// (a builder node's share of a multi-node build, see MergeIndexes).
	MultiPlatform bool
	// Allow is the source policy (policy.Policy.Attr): sent to buildkitd
	// with the pins (SourcePolicy) and to the frontend (frontend.AllowOpt).
	Allow string
	// Warm is the --base-image-cache-dir layout, attached to the session;
	// nil without.
	Warm *warm.Layout
	// Credentials are the session's registry credentials.
	Credentials *registry.Credentials
	// CacheAliases get the manifest of the solve's registry layer cache
	// export once it succeeded (LayerCache.Aliases), through Registry;
	// their failures join Response.CacheExportErrors.
	CacheAliases []name.Tag
	Registry     *registry.Client
	// Progress is the progress display mode (auto, plain, tty, rawjson,
	// quiet), written to ProgressOut.
	Progress    string
	ProgressOut io.Writer
}

// Solve runs the devcache frontend in this process against the builder c,
// with the request's registry credentials, showing BuildKit's progress
// display.
func Solve(ctx context.Context, c *client.Client, req Request) (*Response, error) {
	opt, allow, err := solveOpt(req)
	if err != nil {
		return nil, err
	}
	display, err := progressui.NewDisplay(req.ProgressOut, progressui.DisplayMode(req.Progress))
	if err != nil {
		return nil, fmt.Errorf("--progress %s: %w", req.Progress, err)
	}
	ch, shown := make(chan *client.SolveStatus), make(chan *client.SolveStatus)
	resp := &Response{}
	eg, solveCtx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		resp.SolveResponse, err = c.Build(solveCtx, *opt, "", frontend.Build, ch)
		return err
	})
	eg.Go(func() error {
		defer close(shown)
		for st := range ch {
			resp.watch(st)
			shown <- st
		}
		return nil
	})
	eg.Go(func() error {
		_, err := display.UpdateFrom(context.WithoutCancel(ctx), shown)
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, allow.Explain(err)
	}
	if len(resp.CacheExportErrors) == 0 {
		resp.CacheExportErrors = aliasCache(ctx, req)
	}
	return resp, nil
}

// aliasCache points req.CacheAliases at the manifest its registry layer
// cache export wrote; it returns the failures.
func aliasCache(ctx context.Context, req Request) []string {
	exported := RegistryCaches(req.CacheExports, true)
	if len(req.CacheAliases) == 0 || len(exported) == 0 {
		return nil
	}
	src, err := name.NewTag(exported[0].Attrs["ref"])
	if err != nil {
		return []string{err.Error()}
	}
	desc, err := cache.Lookup(ctx, req.Registry, src.Context(), src.TagStr())
	if err == nil && desc == nil {
		err = fmt.Errorf("%s is not in the registry after its export", src)
	}
	if err == nil {
		err = cache.AddTags(ctx, req.Registry, src.Context(), desc, req.CacheAliases)
	}
	if err != nil {
		return []string{err.Error()}
	}
	return nil
}

// Response is a solve's response and what its progress said.
type Response struct {
	*client.SolveResponse
	// CacheExportErrors are the errors of layer cache exports that were
	// told to ignore them (LayerCache.Exports for push): the solve
	// succeeded without them.
	CacheExportErrors []string
}

// watch notes the failed cache exports of a status update: BuildKit names
// their vertices "exporting cache to …".
func (r *Response) watch(st *client.SolveStatus) {
	for _, v := range st.Vertexes {
		if v.Error != "" && strings.HasPrefix(v.Name, "exporting cache") {
			if msg := v.Name + ": " + v.Error; !slices.Contains(r.CacheExportErrors, msg) {
				r.CacheExportErrors = append(r.CacheExportErrors, msg)
			}
		}
	}
}

// solveOpt is the BuildKit solve of req, and its parsed source policy.
func solveOpt(req Request) (*client.SolveOpt, *policy.Policy, error) {
	contextFS, err := fsutil.NewFS(req.ContextDir)
	if err != nil {
		return nil, nil, fmt.Errorf("open workspace %s: %w", req.ContextDir, err)
	}
	configDir := filepath.Dir(req.ConfigPath)
	configFS, err := fsutil.NewFS(configDir)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", configDir, err)
	}
	attrs := frontendAttrs(req)
	var ociStores map[string]content.Store
	if req.Warm != nil {
		ws, err := warmSolve(req.Warm, req.Plans)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range ws.attrs {
			attrs[k] = v
		}
		ociStores = map[string]content.Store{warmStoreID: ws.store}
	}
	allow, err := policy.Parse([]string{req.Allow})
	if err != nil {
		return nil, nil, err
	}
	locals := map[string]fsutil.FS{"context": contextFS, "dockerfile": configFS}
	if err := contextLocals(req, locals, attrs); err != nil {
		return nil, nil, err
	}
	return &client.SolveOpt{
		Exports:       req.Exports,
		FrontendAttrs: attrs,
		LocalMounts:   locals,
		CacheImports:  req.CacheImports,
		OCIStores:     ociStores,
		SourcePolicy:  solvePolicy(req.Plans, allow),
		CacheExports:  req.CacheExports,
		Session:       []session.Attachable{sessionAuth(req.Credentials)},
	}, allow, nil
}

// frontendAttrs are the frontend options of req (without the warm
// layout's).
func frontendAttrs(req Request) map[string]string {
	attrs := map[string]string{
		"filename": filepath.Base(req.ConfigPath),
	}
	if rel, err := filepath.Rel(req.ContextDir, req.ConfigPath); err == nil && !strings.HasPrefix(rel, "..") {
		attrs["build-arg:DEVCACHE_CONFIG_PATH"] = filepath.ToSlash(rel)
	}
	switch {
	case len(req.Plans) > 0:
		attrs[frontend.PlanOpt] = plansAttr(req.Plans)
		attrs["platform"] = planPlatforms(req.Plans)
	case len(req.Platforms) > 0:
		attrs["platform"] = strings.Join(req.Platforms, ",")
	}
	if req.NoCache {
		attrs["no-cache"] = ""
	}
	if req.MultiPlatform {
		attrs["multi-platform"] = "true"
	}
	if req.Allow != "" {
		attrs[frontend.AllowOpt] = req.Allow
	}
	for k, v := range req.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	return attrs
}

// plansAttr is the value of the frontend's devcache-plan option: the Plans
// as a JSON array of their canonical JSON.
func plansAttr(plans []*plan.Plan) string {
	raws := make([]json.RawMessage, len(plans))
	for i, p := range plans {
		raws[i] = json.RawMessage(p.JSON())
	}
	b, err := json.Marshal(raws)
	if err != nil {
		panic(err) // canonical JSON is valid JSON
	}
	return string(b)
}

// planPlatforms is the frontend's platform option for plans.
func planPlatforms(plans []*plan.Plan) string {
	return strings.Join(Platforms(plans), ",")
}

// Platforms are the platforms of plans, in their order ("" for a Plan
// without one).
func Platforms(plans []*plan.Plan) []string {
	ps := make([]string, len(plans))
	for i, p := range plans {
		ps[i] = p.Platform
	}
	return ps
}

// PlansFor are the plans of platforms ps, in the order of plans.
func PlansFor(plans []*plan.Plan, ps []string) []*plan.Plan {
	var out []*plan.Plan
	for _, p := range plans {
		if slices.Contains(ps, p.Platform) {
			out = append(out, p)
		}
	}
	return out
}

// contextLocals attaches the directory contexts of the Plans (a Compose
// build's additional_contexts) to the session and names them to the
// frontend, as buildx does for --build-context NAME=DIR.
func contextLocals(req Request, locals map[string]fsutil.FS, attrs map[string]string) error {
	for _, p := range req.Plans {
		df := p.Base.Dockerfile
		if df == nil {
			continue
		}
		for _, c := range df.Contexts {
			local := frontend.ContextLocalPrefix + c.Name
			if c.Path == "" || locals[local] != nil {
				continue
			}
			dir := filepath.FromSlash(c.Path)
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(req.ContextDir, dir)
			}
			fs, err := fsutil.NewFS(dir)
			if err != nil {
				return fmt.Errorf("additional_contexts.%s: open %s: %w", c.Name, dir, err)
			}
			locals[local] = fs
			attrs["context:"+c.Name] = "local:" + local
		}
	}
	return nil
}
