package frontend

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/containerd/platforms"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// virtualRoot stands for the build context's root when a config is parsed
// inside the frontend, so that paths resolving outside it can be told apart.
const virtualRoot = "/devcache-build-context"

// forwardedOptDrop are frontend options that must not reach the Dockerfile
// sub-solve: they describe devcache's own invocation (forwarding them would,
// e.g., make the builder skip the user Dockerfile's # syntax line).
var forwardedOptDrop = []string{
	"cmdline", "source", "filename", "dockerfilekey", "contextkey", "contextsubdir",
	"frontend.caps", "requestid", "target", "platform", "multi-platform",
	"build-arg:" + configPathArg, "build-arg:BUILDKIT_SYNTAX",
}

// dockerfileBase builds a Dockerfile config's image through the daemon's own
// Dockerfile frontend (so the user Dockerfile's # syntax, build args, target
// and .dockerignore behave as with docker build), and returns it as the base
// for the feature layers.
func dockerfileBase(ctx context.Context, bc *dockerui.Client, bctx *buildCtx, pl *plan.Plan, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	b := pl.Base.Dockerfile
	if b == nil {
		return llb.State{}, nil, errors.Errorf("%s: the plan has no Dockerfile build", pl.ConfigFile)
	}
	dfRel, err := contextPath(b.Path)
	if err != nil {
		return llb.State{}, nil, errors.Errorf("%s: build.dockerfile: %s is outside the build context; build from a directory that contains it", pl.ConfigFile, b.Path)
	}
	ctxRel, err := contextPath(b.Context)
	if err != nil {
		return llb.State{}, nil, errors.Errorf("%s: build.context: %s is outside the build context; build from a directory that contains it", pl.ConfigFile, b.Context)
	}
	excludes, err := bctx.dockerignore(ctx, dfRel, ctxRel)
	if err != nil {
		return llb.State{}, nil, err
	}
	var include []string
	if ctxRel != "." {
		include = []string{ctxRel}
	}
	contextSt := bctx.local("load build context", include, excludes)
	dockerfileSt := bctx.local("load "+dfRel, []string{dfRel}, nil)

	opts := map[string]string{}
	for k, v := range bc.BuildOpts().Opts {
		opts[k] = v
	}
	for _, k := range forwardedOptDrop {
		delete(opts, k)
	}
	opts["filename"] = dfRel
	opts["platform"] = platforms.Format(p)
	if ctxRel != "." {
		opts["contextsubdir"] = ctxRel
	}
	if b.Target != "" {
		opts["target"] = b.Target
	}
	for _, a := range b.Args {
		opts["build-arg:"+a.Name] = a.Value
	}
	o := b.Options
	for _, a := range o.BuildArgs {
		opts["build-arg:"+a.Name] = a.Value
	}
	for _, l := range o.Labels {
		opts["label:"+l.Name] = l.Value
	}
	if err := pinSyntax(opts, b); err != nil {
		return llb.State{}, nil, errors.Wrapf(err, "%s: build.dockerfile %s", pl.ConfigFile, b.Path)
	}
	if len(o.AddHosts) > 0 {
		opts["add-hosts"] = strings.Join(o.AddHosts, ",")
	}
	if o.Network != "" {
		opts["force-network-mode"] = o.Network
	}
	if o.NoCache {
		opts["no-cache"] = ""
	}
	if o.Pull {
		opts["image-resolve-mode"] = "pull"
	}
	if o.ShmSize != "" {
		opts["shm-size"] = o.ShmSize
	}
	if len(o.Ulimits) > 0 {
		opts["ulimit"] = strings.Join(o.Ulimits, ",")
	}

	states := map[string]llb.State{"context": contextSt, "dockerfile": dockerfileSt}
	if err := namedContexts(ctx, bctx, pl, opts, states); err != nil {
		return llb.State{}, nil, err
	}
	inputs := map[string]*pb.Definition{}
	for name, st := range states {
		def, err := st.Marshal(ctx, llb.WithCaps(bc.BuildOpts().LLBCaps))
		if err != nil {
			return llb.State{}, nil, err
		}
		inputs[name] = def.ToPB()
	}
	res, err := bc.GatewayClient().Solve(ctx, client.SolveRequest{
		Frontend:       "dockerfile.v0",
		FrontendOpt:    opts,
		FrontendInputs: inputs,
		CacheImports:   bc.CacheImports,
	})
	if err != nil {
		return llb.State{}, nil, errors.Wrapf(err, "%s: build.dockerfile %s", pl.ConfigFile, b.Path)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return llb.State{}, nil, err
	}
	st, err := ref.ToState()
	if err != nil {
		return llb.State{}, nil, err
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(res.Metadata[exptypes.ExporterImageConfigKey], &img); err != nil {
		return llb.State{}, nil, errors.Wrap(err, "Dockerfile build returned no image config")
	}
	return st, &img, nil
}

// pinSyntax makes the Dockerfile sub-solve run the "# syntax=" frontend
// image the Plan pinned (Dockerfile.Syntax), by digest: BuildKit's
// Dockerfile frontend forwards to the image the BUILDKIT_SYNTAX build arg
// names before it reads the line. A source policy sent with the sub-solve
// would not reach that lookup (the forwarded frontend image is resolved
// with the client's policy only), so the pin goes in the arg. The rest of
// the line (or of the config's arg) stays the frontend's command line.
func pinSyntax(opts map[string]string, b *plan.Dockerfile) error {
	pin := b.Syntax
	if pin == nil || pin.Digest == "" {
		return nil
	}
	pinned, err := pinImage(pin.Ref, pin.Digest)
	if err != nil {
		return errors.Wrapf(err, "# syntax=%s", pin.Ref)
	}
	cmdline := opts["build-arg:"+plan.SyntaxArg]
	if cmdline == "" {
		_, cmdline, _, _ = parser.DetectSyntax([]byte(b.Content))
	}
	if f := strings.Fields(cmdline); len(f) > 0 && f[0] == pin.Ref {
		cmdline = strings.Join(append([]string{pinned}, f[1:]...), " ")
	} else {
		cmdline = pinned
	}
	opts["build-arg:"+plan.SyntaxArg] = cmdline
	return nil
}
