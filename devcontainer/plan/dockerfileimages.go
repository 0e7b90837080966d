package plan

import (
	"context"
	"fmt"
	"strings"

	"github.com/devcache/devcache/devcontainer"

	"github.com/devcache/devcache/internal/dockerfile"
)

// ImagePin is an image a Dockerfile build reads: the FROM of any stage,
// COPY --from=<image> or RUN --mount=from=<image>, with
// the digest its tag pointed to when the Plan was made (an index or a
// manifest), so that a moved tag changes the key.
type ImagePin struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

// dockerfileImages resolves every external image the stages the target
// needs name (dockerfile.Summary.ExternalImages), sorted by reference. The
// "# syntax=" frontend is pinned by syntaxImage.
func dockerfileImages(ctx context.Context, r Resolver, s *dockerfile.Summary, platform string) ([]ImagePin, error) {
	refs := s.ExternalImages(true)
	pins := make([]ImagePin, 0, len(refs))
	for _, ref := range refs {
		img, err := r.ResolveImage(ctx, ref.Ref, platform)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s %q: %w", ref.Line, ref.Use, ref.Ref, err)
		}
		d := img.Digest
		if d == "" {
			d = img.ManifestDigest
		}
		pins = append(pins, ImagePin{Ref: ref.Ref, Digest: d})
	}
	return pins, nil
}

// SyntaxArg is the build arg that, like a "# syntax=" line, names the
// frontend BuildKit forwards a Dockerfile build to (its first word; the
// rest is the frontend's command line). It wins over the line.
const SyntaxArg = "BUILDKIT_SYNTAX"

// syntaxImage pins the frontend image the Dockerfile build runs: the
// SyntaxArg build arg or the "# syntax=" line; nil when there is none. It
// is resolved for the Plan's platform although BuildKit runs it on the
// builder's: what its tag points to (an index, usually) is the same.
func syntaxImage(ctx context.Context, r Resolver, s *dockerfile.Summary, b *devcontainer.Build, platform string) (*ImagePin, error) {
	ref, what := s.Syntax.Value, fmt.Sprintf("line %d: # syntax=%s", s.Syntax.Line, s.Syntax.Value)
	if v := syntaxArg(b); v != "" {
		ref, what = strings.Fields(v)[0], "build arg "+SyntaxArg+"="+v
	}
	if ref == "" {
		return nil, nil
	}
	img, err := r.ResolveImage(ctx, ref, platform)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	d := img.Digest
	if d == "" {
		d = img.ManifestDigest
	}
	return &ImagePin{Ref: ref, Digest: d}, nil
}

// syntaxArg is the config's SyntaxArg build arg (build.options' wins, as
// for every arg), "" when unset or blank.
func syntaxArg(b *devcontainer.Build) string {
	v := ""
	for _, a := range b.Args {
		if a.Name == SyntaxArg {
			v = a.Value
		}
	}
	for _, a := range b.Options.BuildArgs {
		if a.Name == SyntaxArg {
			v = a.Value
		}
	}
	return strings.TrimSpace(v)
}

// readsOnBuild marks the build as reading the whole context
// (dockerfile.Summary.Whole) when a stage the target needs is FROM an
// image with ONBUILD triggers: BuildKit runs them first in that stage, and
// a COPY or ADD among them reads context files the Dockerfile does not
// name.
func readsOnBuild(ctx context.Context, r Resolver, s *dockerfile.Summary, platform string) error {
	if s.Whole != "" {
		return nil
	}
	for _, ref := range s.Images {
		if !ref.Reachable || ref.Use != "FROM" {
			continue
		}
		img, err := r.ResolveImage(ctx, ref.Ref, platform)
		if err != nil {
			return fmt.Errorf("line %d: %s %q: %w", ref.Line, ref.Use, ref.Ref, err)
		}
		if len(img.OnBuild) > 0 {
			s.Whole = fmt.Sprintf("line %d: the base image %s has ONBUILD triggers (%s)", ref.Line, ref.Ref, strings.Join(img.OnBuild, "; "))
			return nil
		}
	}
	return nil
}
