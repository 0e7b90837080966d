package frontend

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/pkg/errors"

	"github.com/devcache/devcache/internal/dockerfile"
)

// configPathArg is the build arg through which a client names the config's
// path inside the build context (the plugin always sets it; buildx users
// may). Without it the frontend finds the config by content.
const configPathArg = "DEVCACHE_CONFIG_PATH"

// wellKnownConfigPaths are where a config that the client did not name is
// looked for inside the build context, in order.
var wellKnownConfigPaths = []string{
	".devcontainer/devcontainer.json",
	".devcontainer.json",
	".devcontainer/*/devcontainer.json",
}

// buildCtx gives access to the client's build context ("context" local).
type buildCtx struct {
	bc        *dockerui.Client
	sessionID string
	// configDir is the config's directory at its virtual location (see
	// virtualRoot): files there are read from the "dockerfile" local, which
	// is that directory even where the config was not located.
	configDir string
	// ociStore is the client's OCI layout store for blobs (OCIStoreOpt).
	ociStore string
}

func newBuildCtx(bc *dockerui.Client) *buildCtx {
	return &buildCtx{bc: bc, sessionID: bc.BuildOpts().SessionID, ociStore: bc.BuildOpts().Opts[OCIStoreOpt]}
}

// local is the build context restricted to paths (nil: everything) minus
// excludes.
func (b *buildCtx) local(name string, include, exclude []string) llb.State {
	opts := []llb.LocalOption{
		llb.SessionID(b.sessionID),
		llb.SharedKeyHint("context"),
		dockerui.WithInternalName(name),
	}
	if len(include) > 0 {
		opts = append(opts, llb.FollowPaths(include))
	}
	if len(exclude) > 0 {
		opts = append(opts, llb.ExcludePatterns(exclude))
	}
	return llb.Local("context", opts...)
}

// readFiles fetches the given paths (patterns allowed) of the build context
// and returns a reference to read them from.
func (b *buildCtx) readFiles(ctx context.Context, name string, include []string) (client.Reference, error) {
	st := b.local(name, include, nil)
	def, err := st.Marshal(ctx, llb.WithCaps(b.bc.BuildOpts().LLBCaps))
	if err != nil {
		return nil, err
	}
	res, err := b.bc.GatewayClient().Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// locateConfig returns the config file's path inside the build context:
// the client's DEVCACHE_CONFIG_PATH build arg, or else the well-known path
// whose content equals the entry file the build was started with.
func (b *buildCtx) locateConfig(ctx context.Context, entry []byte) (string, error) {
	if p, ok := b.bc.BuildArgs[configPathArg]; ok && p != "" {
		clean, err := contextPath(p)
		if err != nil {
			return "", errors.Wrapf(err, "build arg %s", configPathArg)
		}
		return clean, nil
	}
	ref, err := b.readFiles(ctx, "locate devcontainer.json in the build context", wellKnownConfigPaths)
	if err != nil {
		return "", err
	}
	var candidates []string
	for _, p := range wellKnownConfigPaths[:2] {
		candidates = append(candidates, p)
	}
	if entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: ".devcontainer"}); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				candidates = append(candidates, ".devcontainer/"+e.GetPath()+"/devcontainer.json")
			}
		}
	}
	for _, p := range candidates {
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: p})
		if err == nil && bytes.Equal(dt, entry) {
			return p, nil
		}
	}
	return "", errors.Errorf("cannot find the devcontainer.json being built inside the build context "+
		"(looked at %s); pass its path with --build-arg %s=PATH", strings.Join(wellKnownConfigPaths, ", "), configPathArg)
}

// contextPath cleans a slash path relative to the build context root and
// refuses one that escapes it.
func contextPath(p string) (string, error) {
	if path.IsAbs(p) {
		return "", errors.Errorf("%q must be relative to the build context", p)
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errors.Errorf("%q is outside the build context", p)
	}
	return c, nil
}

// dockerignore reads the ignore file that applies to a build of the
// Dockerfile at dockerfile with the context at dir (see
// dockerfile.IgnoreFiles: Dockerfile.dockerignore, else <dir>/.dockerignore)
// and returns its patterns relative to the build context's root. A named
// context (dockerfilePath "") has only its own .dockerignore.
func (b *buildCtx) dockerignore(ctx context.Context, dockerfilePath, dir string) ([]string, error) {
	names := dockerfile.IgnoreFiles(dockerfilePath, dir)
	if dockerfilePath == "" {
		names = names[1:]
	}
	ref, err := b.readFiles(ctx, "load .dockerignore", names)
	if err != nil {
		return nil, err
	}
	var p string
	var dt []byte
	for _, p = range names {
		if dt, err = ref.ReadFile(ctx, client.ReadRequest{Filename: p}); err == nil {
			break
		}
	}
	if err != nil {
		return nil, nil // no ignore file
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(dt))
	if err != nil {
		return nil, errors.Wrapf(err, "%s", p)
	}
	if dir == "." || dir == "" {
		return patterns, nil
	}
	out := make([]string, 0, len(patterns))
	for _, pat := range patterns {
		if rest, neg := strings.CutPrefix(pat, "!"); neg {
			out = append(out, "!"+path.Join(dir, rest))
		} else {
			out = append(out, path.Join(dir, pat))
		}
	}
	return out, nil
}

// readFile reads a file at its virtual path (see virtualRoot): from the
// config's own directory (the "dockerfile" local) or the build context. A
// missing file gives an error matching fs.ErrNotExist.
func (b *buildCtx) readFile(ctx context.Context, p string) ([]byte, error) {
	var st llb.State
	var name string
	if path.Dir(p) == b.configDir {
		name = path.Base(p)
		st = llb.Local("dockerfile", llb.SessionID(b.sessionID), llb.FollowPaths([]string{name}),
			llb.SharedKeyHint("dockerfile"), dockerui.WithInternalName("load "+name))
	} else {
		rel, err := insideContextPath(p)
		if err != nil {
			return nil, err
		}
		name = rel
		st = b.local("load "+rel, []string{rel}, nil)
	}
	def, err := st.Marshal(ctx, llb.WithCaps(b.bc.BuildOpts().LLBCaps))
	if err != nil {
		return nil, err
	}
	res, err := b.bc.GatewayClient().Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	if _, err := ref.StatFile(ctx, client.StatRequest{Path: name}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return ref.ReadFile(ctx, client.ReadRequest{Filename: name})
}
