package llb

import (
	"time"

	"github.com/devcache/devcache/devcontainer/payload"
	bkllb "github.com/moby/buildkit/client/llb"
)

// TreeState writes a feature payload held in memory into a scratch state,
// one file operation for the whole tree. Payloads are small (the resolver
// bounds them); the bytes become part of the LLB definition, so the state's
// cache key is the content itself.
func TreeState(t *payload.Tree, name string) bkllb.State {
	if t == nil || len(t.Files) == 0 {
		return bkllb.Scratch()
	}
	epoch := time.Unix(0, 0).UTC()
	// Start from a no-op so every entry can be chained the same way.
	fa := bkllb.Mkdir("/", 0o755, bkllb.WithParents(true), bkllb.WithCreatedTime(epoch))
	parent := func(p string) {
		if d := dir(p); d != "/" {
			fa = fa.Mkdir(d, 0o755, bkllb.WithParents(true), bkllb.WithCreatedTime(epoch))
		}
	}
	for _, f := range t.Files {
		p := "/" + f.Path
		switch f.Type {
		case payload.TypeDir:
			fa = fa.Mkdir(p, f.Mode.Perm()|0o700, bkllb.WithParents(true), bkllb.WithCreatedTime(epoch))
		case payload.TypeFile:
			parent(p)
			fa = fa.Mkfile(p, f.Mode.Perm(), f.Data, bkllb.WithCreatedTime(epoch))
		case payload.TypeSymlink:
			parent(p)
			fa = fa.Symlink(f.Link, p, bkllb.WithCreatedTime(epoch))
		}
	}
	return bkllb.Scratch().File(fa, bkllb.WithCustomName(name))
}

func dir(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}
