package frontend

import (
	"context"
	"strings"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/moby/buildkit/client/llb"
	"github.com/pkg/errors"
)

// ContextLocalPrefix, followed by a named context's name, is the session
// local through which the plugin attaches a Plan's directory context; it
// sets context:<name>=local:<that local>, as buildx does for
// --build-context NAME=DIR.
const ContextLocalPrefix = "devcache-context-"

// namedContextInputPrefix names the sub-solve input that carries a
// directory context taken from the build context.
const namedContextInputPrefix = "devcache-context-"

// namedContexts sets the Dockerfile sub-solve's named contexts (the
// Plan's Contexts) in opts, adding the inputs they need: an image by the
// digest the Plan pinned; a directory as the client passed it
// (context:<name>, from the plugin or --build-context), else from the
// build context when it lies inside it, with its own .dockerignore. A
// directory this route cannot see is an error naming the field.
func namedContexts(ctx context.Context, bctx *buildCtx, pl *plan.Plan, opts map[string]string, inputs map[string]llb.State) error {
	b := pl.Base.Dockerfile
	for _, c := range b.Contexts {
		key := "context:" + c.Name
		if c.Image != "" {
			v, err := pinnedContextImage(b, c.Image)
			if err != nil {
				return errors.Wrapf(err, "%s: additional_contexts.%s", pl.ConfigFile, c.Name)
			}
			opts[key] = v
			continue
		}
		if hasNamedContext(opts, c.Name) {
			continue
		}
		rel, err := contextPath(c.Path)
		if err != nil {
			return errors.Errorf("%s: additional_contexts.%s: %s is outside the build context; pass it with --build-context %s=<its directory>, or build with docker devcache", pl.ConfigFile, c.Name, c.Path, c.Name)
		}
		excludes, err := bctx.dockerignore(ctx, "", rel)
		if err != nil {
			return err
		}
		var include []string
		if rel != "." {
			include = []string{rel}
		}
		src := bctx.local("load context "+c.Name, include, excludes)
		inputs[namedContextInputPrefix+c.Name] = llb.Scratch().File(llb.Copy(src, "/"+rel+"/", "/", &llb.CopyInfo{CopyDirContentsOnly: true}))
		opts[key] = "input:" + namedContextInputPrefix + c.Name
	}
	return nil
}

// hasNamedContext tells whether the client passed a context of that name
// (for any platform).
func hasNamedContext(opts map[string]string, name string) bool {
	for k := range opts {
		if k == "context:"+name || strings.HasPrefix(k, "context:"+name+"::") {
			return true
		}
	}
	return false
}

// pinnedContextImage is the docker-image:// value of an image context,
// by the digest the Plan pinned for it among the Dockerfile's images.
func pinnedContextImage(b *plan.Dockerfile, ref string) (string, error) {
	for _, pin := range b.Images {
		if pin.Ref == ref && pin.Digest != "" {
			pinned, err := pinImage(ref, pin.Digest)
			if err != nil {
				return "", err
			}
			return "docker-image://" + pinned, nil
		}
	}
	return "docker-image://" + ref, nil
}
