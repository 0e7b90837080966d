package frontend

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/payload"
	"github.com/devcache/devcache/devcontainer/plan"
	devllb "github.com/devcache/devcache/llb"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"

	// Compose configs: compose-go, registered as compose.Load's loader.
	_ "github.com/devcache/devcache/devcontainer/compose/composego"
)

// Build is the gateway BuildFunc: devcontainer.json in, dev container image out.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	allow, err := sourcePolicy(c.BuildOpts().Opts)
	if err != nil {
		return nil, err
	}
	if c, err = withPolicy(c, allow); err != nil {
		return nil, err
	}
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	if res, handled, err := bc.HandleSubrequest(ctx, subrequests(bc)); err != nil || handled {
		return res, err
	}

	src, err := bc.ReadEntrypoint(ctx, "JSON")
	if err != nil {
		return nil, err
	}
	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	plans, err := clientPlans(bc.BuildOpts().Opts)
	if err != nil {
		return nil, err
	}
	bctx := newBuildCtx(bc)
	g := newGatewayResolver(bc, bctx)
	g.allow = allow

	// Without a client Plan the frontend computes it, through the gateway,
	// with the variables the build args give.
	var (
		cfg  *devcontainer.Config
		vars *clientVariables
	)
	if plans == nil {
		if cfg, vars, err = ownConfig(ctx, bc, bctx, src); err != nil {
			return nil, err
		}
	}
	llbCaps := bc.BuildOpts().LLBCaps
	caps := &pbCaps{imageBlob: llbCaps.Supports(pb.CapSourceImageBlob)}

	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		p := platforms.DefaultSpec()
		if platform != nil {
			p = *platform
		}
		pl, err := planFor(ctx, plans, cfg, g, bctx, p)
		if err != nil {
			return nil, err
		}
		if vars != nil {
			vars.warn(ctx, src)
		}
		if err := checkPolicy(allow, pl); err != nil {
			return nil, err
		}
		var (
			st  llb.State
			img *dockerspec.DockerOCIImage
		)
		switch {
		case pl.Base.Kind == devcontainer.KindImage,
			pl.Base.Kind == devcontainer.KindCompose && pl.Base.Dockerfile == nil:
			st, img, err = imageBase(ctx, bc, g, pl, p)
		case pl.Base.Kind == devcontainer.KindDockerfile,
			pl.Base.Kind == devcontainer.KindCompose:
			// A Compose service's build is a Dockerfile build.
			st, img, err = dockerfileBase(ctx, bc, bctx, pl, p)
		default:
			err = fmt.Errorf("%s: %s configs are not supported", pl.ConfigFile, pl.Base.Kind)
		}
		if err != nil {
			return nil, err
		}
		base := img
		fs, err := featureSet(pl, bctx, caps, func(f plan.Feature) *payload.Tree {
			return inlineTree(ctx, bc.BuildOpts().Opts, g, f)
		})
		if err != nil {
			return nil, err
		}
		st, img, err = devllb.ApplyFeatures(st, img, fs, devllb.Options{Epoch: epoch})
		if err != nil {
			return nil, err
		}
		if pl.MetadataLabel != "" {
			img = devllb.WithLabels(img, map[string]string{devcontainer.MetadataLabelKey: pl.MetadataLabel},
				"LABEL "+devcontainer.MetadataLabelKey+"="+pl.MetadataLabel, epoch)
		}
		ref, err := solve(ctx, bc, st, p)
		if err != nil {
			return nil, featureError(pl, err)
		}
		return &dockerui.BuildResult{Reference: ref, Image: img, BaseImage: base, Epoch: epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// featureError names the feature whose install step failed, if one did. It
// makes a new error rather than wrapping: BuildKit sends a wrapped exec
// error back to the client as the bare exec error, dropping the context.
func featureError(pl *plan.Plan, err error) error {
	msg := err.Error()
	for _, f := range pl.Features {
		if strings.Contains(msg, "/tmp/build-features-src/"+f.ConsecutiveID+" ") {
			return fmt.Errorf("%s: feature %q failed to install: %s", pl.ConfigFile, f.UserFeatureID, msg)
		}
	}
	return err
}

// inlineTree finds a tarball feature's files among the client's payload
// options or the payloads the frontend downloaded while resolving.
func inlineTree(ctx context.Context, opts map[string]string, g *gatewayResolver, f plan.Feature) *payload.Tree {
	if f.Source.Kind != features.KindTarball || f.Source.ContentDigest == "" {
		return nil
	}
	if v, ok := opts[PayloadOptPrefix+f.Source.ContentDigest]; ok {
		data, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil
		}
		t, err := payload.ReadArchive(bytes.NewReader(data), payload.ArchiveOptions{TarballFilter: true})
		if err != nil || t.Digest() != f.Source.ContentDigest {
			return nil
		}
		return t
	}
	t, err := g.remote.Payload(ctx, &features.Source{ContentDigest: f.Source.ContentDigest, Ref: &features.Ref{UserFeatureID: f.UserFeatureID}})
	if err != nil {
		return nil
	}
	return t
}

// clientPlans reads the Plans a client passed (PlanOpt); nil when none.
func clientPlans(opts map[string]string) ([]*plan.Plan, error) {
	v, ok := opts[PlanOpt]
	if !ok || v == "" {
		return nil, nil
	}
	var plans []*plan.Plan
	if err := json.Unmarshal([]byte(v), &plans); err != nil {
		return nil, errors.Wrapf(err, "frontend option %s: invalid plans", PlanOpt)
	}
	if len(plans) == 0 {
		return nil, errors.Errorf("frontend option %s: no plan", PlanOpt)
	}
	for _, p := range plans {
		if p.FormatVersion != plan.FormatVersion {
			return nil, errors.Errorf("frontend option %s: plan format %d, this frontend reads format %d (use the same devcache version for the plugin and the frontend image)",
				PlanOpt, p.FormatVersion, plan.FormatVersion)
		}
	}
	return plans, nil
}

// planFor returns the Plan for platform p: the client's, or one computed
// here from the config.
func planFor(ctx context.Context, plans []*plan.Plan, cfg *devcontainer.Config, g *gatewayResolver, bctx *buildCtx, p ocispecs.Platform) (*plan.Plan, error) {
	want := platforms.Format(p)
	if plans != nil {
		for _, pl := range plans {
			if pp, err := platforms.Parse(pl.Platform); err == nil && platforms.Format(pp) == want {
				return pl, nil
			}
		}
		if len(plans) == 1 && plans[0].Platform == "" {
			return plans[0], nil
		}
		return nil, errors.Errorf("the client passed no plan for platform %s", want)
	}
	res, err := plan.ForConfig(ctx, virtualRoot, cfg, plan.Options{
		Resolver: g,
		Platform: want,
		ReadFile: func(p string) ([]byte, error) { return bctx.readFile(ctx, p) },
		Environ:  buildArgEnv(bctx.bc.BuildArgs),
	})
	if err != nil {
		return nil, err
	}
	return res.Plan, nil
}

// parseInContext parses the entry file at its location in the build
// context, so that relative paths in it (Dockerfile, context, local
// features, lockfile) resolve as they do for the reference CLI. The
// location is only looked up when the config has such paths.
func parseInContext(ctx context.Context, bctx *buildCtx, filename string, data []byte, vars *devcontainer.Variables) (*devcontainer.Config, error) {
	cfg, err := devcontainer.Parse(filename, data, nil)
	if err != nil {
		return nil, err
	}
	rel := path.Join(".devcontainer", filename) // where a lockfile would be; only the directory matters
	if filename == ".devcontainer.json" {
		rel = filename
	}
	needsLocation := cfg.Kind == devcontainer.KindDockerfile || cfg.Kind == devcontainer.KindCompose
	for _, f := range cfg.Features {
		if strings.HasPrefix(f.Key, "./") || strings.HasPrefix(f.Key, "../") {
			needsLocation = true
		}
	}
	if needsLocation {
		if rel, err = bctx.locateConfig(ctx, data); err != nil {
			return nil, err
		}
	}
	bctx.configDir = path.Dir(path.Join(virtualRoot, rel))
	return devcontainer.ParseAt(rel, path.Join(virtualRoot, rel), data, vars)
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH from the build args, as buildx and
// buildctl pass it.
func sourceDateEpoch(args map[string]string) (*time.Time, error) {
	v, ok := args["SOURCE_DATE_EPOCH"]
	if !ok || v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, errors.Errorf("invalid SOURCE_DATE_EPOCH %q: must be a number of seconds", v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}

// buildArgEnv is the environment a Compose config is interpolated with on
// this route: the build args, as ${localEnv:…} reads them (`--build-arg
// NAME` sends the client's variable).
func buildArgEnv(args map[string]string) []string {
	env := make([]string, 0, len(args))
	for k, v := range args {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}
