package dockerfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// emptyImage is BuildKit's name for an empty base.
const emptyImage = "scratch"

// reader holds one Read's state, as dockerfile2llb's dispatch states do.
type reader struct {
	s      *Summary
	o      Options
	lex    *shell.Lex
	stages []instructions.Stage
	global *env
	// byName maps lower-case stage names to stage indexes.
	byName map[string]int
	// cmds are each stage's commands: its parent stage's ONBUILD
	// triggers, then its own.
	cmds [][]trigger
	// deps are the stages each stage reads from (base excluded).
	deps [][]int
	envs []*env
}

// trigger is a command and how it ran: "" or "ONBUILD ".
type trigger struct {
	cmd    instructions.Command
	prefix string
	line   int
}

func newReader(s *Summary, escape rune, o Options, stages []instructions.Stage) *reader {
	return &reader{
		s: s, o: o, lex: shell.NewLex(escape), stages: stages,
		byName: map[string]int{},
		cmds:   make([][]trigger, len(stages)),
		deps:   make([][]int, len(stages)),
		envs:   make([]*env, len(stages)),
	}
}

// globals sets the global scope: the platform args, then the ARGs before
// the first FROM with build args overriding their defaults
// (dockerfile2llb's defaultArgs and buildMetaArgs).
func (r *reader) globals(metaArgs []instructions.ArgCommand) error {
	target := r.o.Target
	if target == "" {
		target = r.stages[len(r.stages)-1].Name
	}
	if target == "" {
		target = "default"
	}
	bp := r.o.BuildPlatform
	if bp == "" {
		bp = r.o.Platform
	}
	g := &env{}
	for _, p := range []struct{ prefix, platform string }{{"BUILD", bp}, {"TARGET", r.o.Platform}} {
		os, arch, variant := splitPlatform(p.platform)
		for _, kv := range [][2]string{{"PLATFORM", p.platform}, {"OS", os}, {"OSVERSION", ""}, {"ARCH", arch}, {"VARIANT", variant}} {
			g.setOverridable(p.prefix+kv[0], kv[1], r.o.BuildArgs)
		}
	}
	g.setOverridable("TARGETSTAGE", target, r.o.BuildArgs)
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if v, ok := r.o.BuildArgs[kv.Key]; ok {
				g.set(kv.Key, v, false)
				continue
			}
			if kv.Value == nil {
				continue
			}
			v, _, err := g.expand(r.lex, *kv.Value)
			if err != nil {
				return &Error{Line: line(a.Location()), Err: err}
			}
			g.set(kv.Key, v, false)
		}
	}
	r.global = g
	return nil
}

// read names each stage's base, finds the target and what it reaches,
// then reads the reachable stages in file order.
func (r *reader) read() error {
	for i := range r.stages {
		if err := r.stage(i); err != nil {
			return err
		}
	}
	target := len(r.stages) - 1
	if r.o.Target != "" {
		t, ok := r.byName[strings.ToLower(r.o.Target)]
		if !ok {
			return &Error{Err: fmt.Errorf("target stage %q could not be found", r.o.Target)}
		}
		target = t
	}
	r.s.Target = target
	for i := range r.stages {
		if err := r.dependencies(i); err != nil {
			return err
		}
	}
	r.reach(target)
	for i := range r.s.Images {
		img := &r.s.Images[i]
		img.Reachable = r.s.Stages[img.Stage].Reachable
	}
	for i, st := range r.s.Stages {
		if !st.Reachable {
			continue
		}
		if err := r.dispatch(i); err != nil {
			return err
		}
	}
	return nil
}

// stage expands stage i's FROM with the global scope and looks it up among
// the earlier stages (BuildKit's buildDispatchStates and addState).
func (r *reader) stage(i int) error {
	st := r.stages[i]
	ln := line(st.Location)
	base, _, err := r.global.expand(r.lex, st.BaseName)
	if err != nil {
		return &Error{Line: ln, Err: err}
	}
	if base == "" {
		return &Error{Line: ln, Err: fmt.Errorf("base name (%s) should not be blank", st.BaseName)}
	}
	out := Stage{Name: st.Name, Base: base, BaseStage: -1, Line: ln, Reachable: r.o.AllStages}
	if name, ref, ok := r.namedContext(st.Name); ok {
		// A named context of the stage's name replaces the stage.
		out.Context, out.Replaced = name, true
		if ref != "" {
			r.s.Images = append(r.s.Images, Image{Ref: ref, Use: "FROM", Line: ln, Stage: i, Context: name})
		}
	} else if b, ok := r.byName[base]; ok {
		out.BaseStage = b
	} else if name, ref, ok := r.namedContext(base); ok && base != emptyImage {
		out.Context = name
		if ref != "" {
			r.s.Images = append(r.s.Images, Image{Ref: ref, Use: "FROM", Line: ln, Stage: i, Context: name})
		}
	} else if base != emptyImage {
		r.s.Images = append(r.s.Images, Image{Ref: base, Use: "FROM", Line: ln, Stage: i})
	}
	r.s.Stages = append(r.s.Stages, out)
	if st.Name != "" {
		r.byName[strings.ToLower(st.Name)] = i
	}
	return nil
}

// dependencies lists stage i's commands (with its parent stage's ONBUILD
// triggers first) and the stages and images they read from
// (dockerfile2llb's toCommand, detectRunMount and initOnBuildTriggers).
func (r *reader) dependencies(i int) error {
	var cmds []trigger
	if b := r.s.Stages[i].BaseStage; b >= 0 {
		for _, c := range r.stages[b].Commands {
			if ob, ok := c.(*instructions.OnbuildCommand); ok {
				t, err := parseTrigger(ob)
				if err != nil {
					return err
				}
				cmds = append(cmds, t)
			}
		}
	}
	for _, c := range r.stages[i].Commands {
		cmds = append(cmds, trigger{cmd: c, line: line(c.Location())})
	}
	r.cmds[i] = cmds
	for _, t := range cmds {
		if err := r.commandDeps(i, t); err != nil {
			return err
		}
	}
	return nil
}

// parseTrigger parses an ONBUILD expression as the command it triggers.
func parseTrigger(ob *instructions.OnbuildCommand) (trigger, error) {
	ln := line(ob.Location())
	res, err := parser.Parse(strings.NewReader(ob.Expression))
	if err != nil {
		return trigger{}, &Error{Line: ln, Err: err}
	}
	if len(res.AST.Children) != 1 {
		return trigger{}, &Error{Line: ln, Err: errors.New("onbuild trigger should be a single expression")}
	}
	c, err := instructions.ParseCommand(res.AST.Children[0])
	if err != nil {
		return trigger{}, &Error{Line: ln, Err: err}
	}
	return trigger{cmd: c, prefix: "ONBUILD ", line: ln}, nil
}

// commandDeps records what one command reads from other stages or images.
func (r *reader) commandDeps(i int, t trigger) error {
	switch c := t.cmd.(type) {
	case *instructions.CopyCommand:
		if c.From == "" {
			return nil
		}
		if w, _, err := r.lex.ProcessWord(c.From, &env{}); err != nil || w != c.From {
			return &Error{Line: t.line, Err: errors.New("variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround")}
		}
		if n, err := strconv.Atoi(c.From); err == nil {
			if n < 0 || n >= len(r.stages) {
				return &Error{Line: t.line, Err: fmt.Errorf("invalid stage index %d", n)}
			}
			r.deps[i] = append(r.deps[i], n)
			return nil
		}
		r.from(i, c.From, t.prefix+"COPY --from", t.line)
	case *instructions.RunCommand:
		for _, m := range instructions.GetMounts(c) {
			if m.From != "" {
				r.from(i, m.From, t.prefix+"RUN --mount from", t.line)
			}
		}
	}
	return nil
}

// from records a --from that names a stage, or else an image.
func (r *reader) from(i int, name, use string, ln int) {
	if d, ok := r.byName[strings.ToLower(name)]; ok {
		r.deps[i] = append(r.deps[i], d)
		return
	}
	if name == emptyImage {
		return
	}
	if ctx, ref, ok := r.namedContext(name); ok {
		if ref != "" {
			r.s.Images = append(r.s.Images, Image{Ref: ref, Use: use, Line: ln, Stage: i, Context: ctx})
		}
		return // a directory's reads are recorded by dispatch
	}
	r.s.Images = append(r.s.Images, Image{Ref: name, Use: use, Line: ln, Stage: i})
}

// namedContext finds the named context a FROM, stage name or --from
// names, as BuildKit's dockerui.Client.NamedContext does (by the name's
// familiar form; never "scratch" or "context"): its name in
// Options.NamedContexts and, for a "docker-image://" one, the image it
// stands for ("" for a directory).
func (r *reader) namedContext(ref string) (name, image string, ok bool) {
	if len(r.o.NamedContexts) == 0 || ref == "" || strings.EqualFold(ref, emptyImage) || strings.EqualFold(ref, "context") {
		return "", "", false
	}
	name = ContextName(ref)
	v, ok := r.o.NamedContexts[name]
	if !ok {
		return "", "", false
	}
	image, _ = strings.CutPrefix(v, "docker-image://")
	if image == v {
		image = ""
	}
	return name, image, true
}

// ContextName is the name of the named context a FROM, stage name or
// --from reference looks up: reference.FamiliarString(
// reference.ParseNormalizedNamed(ref)) without a ":latest" suffix, as
// BuildKit's dockerui.Client.NamedContext computes it.
func ContextName(ref string) string {
	for _, p := range []string{"docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"} {
		if rest, ok := strings.CutPrefix(ref, p); ok {
			ref = rest
			break
		}
	}
	return strings.TrimSuffix(ref, ":latest")
}

// reach marks stage i and every stage it reads from as reachable.
func (r *reader) reach(i int) {
	st := &r.s.Stages[i]
	if st.Reachable {
		return // also every stage when Options.AllStages
	}
	st.Reachable = true
	if st.BaseStage >= 0 {
		r.reach(st.BaseStage)
	}
	for _, d := range r.deps[i] {
		r.reach(d)
	}
}

// line is the first line of a BuildKit location.
func line(loc []parser.Range) int { return rangeLine(loc) }

// splitPlatform splits os/arch[/variant].
func splitPlatform(p string) (os, arch, variant string) {
	os, rest, _ := strings.Cut(p, "/")
	arch, variant, _ = strings.Cut(rest, "/")
	return os, arch, variant
}

// isDockerfileFrontend tells whether a "# syntax=" reference is BuildKit's
// Dockerfile frontend (docker/dockerfile or docker/dockerfile-upstream, on
// any registry or mirror), whose reads are the ones this package knows.
func isDockerfileFrontend(ref string) bool {
	name := ref
	if i := strings.IndexAny(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	for _, n := range []string{"docker/dockerfile", "docker/dockerfile-upstream"} {
		if name == n || strings.HasSuffix(name, "/"+n) {
			return true
		}
	}
	return false
}
