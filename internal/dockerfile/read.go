package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Options are the inputs of a build that change how a Dockerfile reads.
// The zero value is a build of the last stage for an unknown platform with
// no build args.
type Options struct {
	// BuildArgs are the build arguments (--build-arg NAME=VALUE).
	BuildArgs map[string]string
	// Target is the stage to build (--target); "" is the last stage.
	Target string
	// Platform is the target platform, os/arch[/variant]; it sets
	// TARGETPLATFORM, TARGETOS, ... and, unless BuildPlatform is set, the
	// BUILD* arguments too.
	Platform string
	// BuildPlatform is the builder's platform; "" is Platform.
	BuildPlatform string
	// AllStages reads every stage, as if each were needed by the target.
	AllStages bool
	// NamedContexts are the build's named contexts (--build-context
	// NAME=VALUE; a Compose build's additional_contexts) by name: a value
	// "docker-image://REF" stands for the image REF, any other for a
	// directory the build reads like the main context. A FROM, COPY
	// --from or RUN --mount from that names one (after the stages, as
	// BuildKit looks them up), and a stage of that name, read it instead.
	NamedContexts map[string]string
}

// Summary is what a build of a Dockerfile reads.
type Summary struct {
	// Syntax is the "# syntax=" directive (the frontend image BuildKit
	// forwards the build to); its Value is "" when there is none.
	Syntax Directive
	// Escape is the escape character (the "# escape=" directive).
	Escape rune
	// Stages are the build stages in file order.
	Stages []Stage
	// Target is the index in Stages of the stage the build produces.
	Target int
	// Sources are the build-context paths the reachable stages read, in
	// file order: COPY and ADD sources without --from (ADD URLs are not
	// context paths; heredoc sources read nothing), the sources of RUN
	// --mount=type=bind without from (default: the whole context), and
	// the same in ONBUILD triggers of a parent stage.
	Sources []Source
	// Whole says why Sources may be incomplete, so that the whole context
	// must be taken as read; "" when Sources is exact. A path that holds a
	// variable the Dockerfile does not set (it may come from a base image's
	// ENV), or a "# syntax=" frontend other than BuildKit's Dockerfile
	// frontend, makes the reads unknowable here. Such a path is still in
	// Sources, expanded with the names it lacks as empty.
	Whole string
	// Images are the external images the stages name, in file order, one
	// per use: the base of a stage that is neither scratch nor an earlier
	// stage, COPY --from=<image> and RUN --mount=from=<image>.
	Images []Image
}

// Directive is a parser directive's value and its line (1-based).
type Directive struct {
	Value string
	Line  int
}

// Stage is one FROM and the instructions after it.
type Stage struct {
	// Name is the stage name, lower case; "" when unnamed.
	Name string
	// Base is the FROM argument after global ARG expansion.
	Base string
	// BaseStage is the index of the earlier stage Base names; -1 when Base
	// is an image or scratch.
	BaseStage int
	// Line is the FROM's line.
	Line int
	// Reachable tells whether the target needs the stage.
	Reachable bool
	// Context is the named context (Options.NamedContexts) that is the
	// stage's base, or that replaces the stage when it has the stage's
	// name (Replaced: its instructions do not run); "" when none.
	Context  string
	Replaced bool
}

// Source is a build-context path an instruction reads.
type Source struct {
	// Path is slash-separated, clean and relative to the context root;
	// "." is the whole context. It may hold COPY wildcards (*, ?, [...]
	// and, with --parents, **).
	Path string
	// Instruction is how it is read: "COPY", "ADD" or "RUN --mount",
	// prefixed with "ONBUILD " for a parent stage's trigger.
	Instruction string
	// Line is the instruction's line; Stage its stage's index.
	Line  int
	Stage int
	// Context is the named context (Options.NamedContexts) it is read
	// from; "" for the main build context.
	Context string
}

// Image is an external image a Dockerfile names.
type Image struct {
	// Ref is the reference as written, global ARGs expanded (FROM only:
	// BuildKit does not expand --from).
	Ref string
	// Use is "FROM", "COPY --from" or "RUN --mount from".
	Use string
	// Line is the instruction's line; Stage its stage's index.
	Line  int
	Stage int
	// Reachable tells whether the target needs it.
	Reachable bool
	// Context is the named context whose image it is ("docker-image://"
	// Ref); "" when the Dockerfile names the image itself.
	Context string
}

// Error is a Dockerfile that BuildKit would refuse to build, with the line
// (1-based; 0 when unknown) where it goes wrong.
type Error struct {
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.Line <= 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Read reads a Dockerfile as BuildKit's Dockerfile frontend would for a
// build with o. A Dockerfile BuildKit would refuse (a parse error, a blank
// base name, an unknown --target or --from stage index) is an *Error.
func Read(dockerfile []byte, o Options) (*Summary, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, &Error{Line: errorLine(err), Err: err}
	}
	s := &Summary{Escape: res.EscapeToken}
	if v, _, loc, ok := parser.DetectSyntax(dockerfile); ok {
		s.Syntax = Directive{Value: v, Line: rangeLine(loc)}
	}
	stages, metaArgs, err := parseStages(res.AST)
	if err != nil {
		return nil, err
	}
	r := newReader(s, res.EscapeToken, o, stages)
	if err := r.globals(metaArgs); err != nil {
		return nil, err
	}
	if err := r.read(); err != nil {
		return nil, err
	}
	if s.Whole == "" && s.Syntax.Value != "" && !isDockerfileFrontend(s.Syntax.Value) {
		s.Whole = fmt.Sprintf("line %d: # syntax=%s is not BuildKit's Dockerfile frontend", s.Syntax.Line, s.Syntax.Value)
	}
	return s, nil
}

// parseStages is instructions.Parse with the line of each error.
func parseStages(ast *parser.Node) ([]instructions.Stage, []instructions.ArgCommand, error) {
	var stages []instructions.Stage
	var metaArgs []instructions.ArgCommand
	for _, n := range ast.Children {
		cmd, err := instructions.ParseInstruction(n)
		if err != nil {
			return nil, nil, &Error{Line: n.StartLine, Err: err}
		}
		switch c := cmd.(type) {
		case *instructions.ArgCommand:
			if len(stages) == 0 {
				metaArgs = append(metaArgs, *c)
				continue
			}
			stages[len(stages)-1].AddCommand(c)
		case *instructions.Stage:
			stages = append(stages, *c)
		case instructions.Command:
			if len(stages) == 0 {
				return nil, nil, &Error{Line: n.StartLine, Err: errors.New("no build stage in current context: add a FROM before it")}
			}
			stages[len(stages)-1].AddCommand(c)
		default:
			return nil, nil, &Error{Line: n.StartLine, Err: fmt.Errorf("%T is not a command type", cmd)}
		}
	}
	if len(stages) == 0 {
		return nil, nil, &Error{Err: errors.New("the Dockerfile has no FROM: it contains no stages to build")}
	}
	return stages, metaArgs, nil
}

// ExternalImages lists Images by reference, each once (its first use),
// sorted; only those the target needs when reachableOnly is set.
func (s *Summary) ExternalImages(reachableOnly bool) []Image {
	seen := map[string]bool{}
	var out []Image
	for _, img := range s.Images {
		if (reachableOnly && !img.Reachable) || seen[img.Ref] {
			continue
		}
		seen[img.Ref] = true
		out = append(out, img)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

// SourcePaths lists the Paths of the main context's Sources, each once, in
// file order; nil when the build reads nothing from the context.
func (s *Summary) SourcePaths() []string { return s.ContextSourcePaths("") }

// ContextSourcePaths is SourcePaths for the named context name ("" is
// the main context).
func (s *Summary) ContextSourcePaths(name string) []string {
	seen := map[string]bool{}
	var out []string
	for _, src := range s.Sources {
		if src.Context == name && !seen[src.Path] {
			seen[src.Path] = true
			out = append(out, src.Path)
		}
	}
	return out
}

// errorLine is the first line a BuildKit parse error carries; 0 if none.
func errorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) {
		for _, l := range le.Locations {
			if n := rangeLine(l); n > 0 {
				return n
			}
		}
	}
	return 0
}

func rangeLine(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}
