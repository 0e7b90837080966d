package dockerfile

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// dispatch reads stage i's commands in order, with the environment
// dockerfile2llb's dispatch would have: its parent stage's, or an empty one
// (plus a base image's ENV, which this package does not know).
func (r *reader) dispatch(i int) error {
	st := r.s.Stages[i]
	e := &env{open: st.Base != emptyImage}
	if st.BaseStage >= 0 {
		e = r.envs[st.BaseStage].clone()
	}
	if st.Context != "" {
		if _, img, _ := r.namedContext(st.Context); img == "" {
			// A directory as a root filesystem: all of it is read.
			r.s.Sources = append(r.s.Sources, Source{Path: ".", Instruction: "FROM", Line: st.Line, Stage: i, Context: st.Context})
		}
		if st.Replaced {
			r.envs[i] = e
			return nil
		}
	}
	for _, t := range r.cmds[i] {
		if err := r.command(i, e, t); err != nil {
			return err
		}
	}
	r.envs[i] = e
	return nil
}

// command applies one command to e and records its context reads.
func (r *reader) command(i int, e *env, t trigger) error {
	switch c := t.cmd.(type) {
	case *instructions.ArgCommand:
		return r.arg(e, c, t.line)
	case *instructions.EnvCommand:
		return r.envCmd(e, c, t.line)
	case *instructions.CopyCommand:
		if c.From != "" {
			if ctx, ok := r.localContext(c.From); ok {
				return r.sources(i, e, t, ctx, "COPY --from", c.SourcePaths)
			}
			return nil
		}
		return r.sources(i, e, t, "", "COPY", c.SourcePaths)
	case *instructions.AddCommand:
		var local []string
		for _, s := range c.SourcePaths {
			w, _, err := e.expand(r.lex, s)
			if err == nil && (strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://")) {
				continue // a download, not a context path (as BuildKit's ctxPaths)
			}
			local = append(local, s)
		}
		return r.sources(i, e, t, "", "ADD", local)
	case *instructions.RunCommand:
		return r.runMounts(i, e, t, c)
	}
	return nil
}

// arg is dispatchArg: a build arg wins, then the default (expanded in the
// stage), then a global ARG of the same name.
func (r *reader) arg(e *env, c *instructions.ArgCommand, ln int) error {
	for _, kv := range c.Args {
		if v, ok := r.o.BuildArgs[kv.Key]; ok {
			e.set(kv.Key, v, false)
			continue
		}
		if kv.Value == nil {
			if v, ok := r.global.Get(kv.Key); ok {
				e.set(kv.Key, v, r.global.tainted[kv.Key])
			}
			continue
		}
		v, known, err := e.expand(r.lex, *kv.Value)
		if err != nil {
			return &Error{Line: ln, Err: err}
		}
		e.set(kv.Key, v, !known)
	}
	return nil
}

// envCmd is ENV: every pair is expanded with the environment from before
// the instruction, then set.
func (r *reader) envCmd(e *env, c *instructions.EnvCommand, ln int) error {
	type kv struct {
		k, v  string
		known bool
	}
	var set []kv
	for _, p := range c.Env {
		k, kk, err := e.expand(r.lex, p.Key)
		if err != nil {
			return &Error{Line: ln, Err: err}
		}
		v, vk, err := e.expand(r.lex, p.Value)
		if err != nil {
			return &Error{Line: ln, Err: err}
		}
		set = append(set, kv{k, v, kk && vk})
	}
	for _, p := range set {
		e.set(p.k, p.v, !p.known)
	}
	return nil
}

// localContext tells whether a --from names a directory among the named
// contexts (and neither a stage nor a stage index, which win), and which.
func (r *reader) localContext(from string) (string, bool) {
	if _, ok := r.byName[strings.ToLower(from)]; ok {
		return "", false
	}
	if _, err := strconv.Atoi(from); err == nil {
		return "", false
	}
	name, img, ok := r.namedContext(from)
	return name, ok && img == ""
}

// sources records the paths a COPY or ADD reads from the main context
// (ctx "") or the named context ctx.
func (r *reader) sources(i int, e *env, t trigger, ctx, ins string, srcs []string) error {
	for _, s := range srcs {
		w, known, err := e.expand(r.lex, s)
		if err != nil {
			return &Error{Line: t.line, Err: err}
		}
		if !known {
			r.whole(t.line, fmt.Sprintf("%s%s source %q", t.prefix, ins, s))
		}
		r.s.Sources = append(r.s.Sources, Source{Path: contextPath(w), Instruction: t.prefix + ins, Line: t.line, Stage: i, Context: ctx})
	}
	return nil
}

// runMounts records the context paths of RUN --mount=type=bind without
// from (the whole context when it has no source).
func (r *reader) runMounts(i int, e *env, t trigger, c *instructions.RunCommand) error {
	known := true
	err := c.Expand(func(w string) (string, error) {
		v, k, err := e.expand(r.lex, w)
		known = known && k
		return v, err
	})
	if err != nil {
		return &Error{Line: t.line, Err: err}
	}
	for _, m := range instructions.GetMounts(c) {
		ctx := ""
		if m.From != "" {
			var ok bool
			if ctx, ok = r.localContext(m.From); !ok {
				continue
			}
		}
		if m.Type != instructions.MountTypeBind && ctx == "" {
			continue
		}
		if !known {
			r.whole(t.line, t.prefix+"RUN --mount")
		}
		r.s.Sources = append(r.s.Sources, Source{Path: contextPath(m.Source), Instruction: t.prefix + "RUN --mount", Line: t.line, Stage: i, Context: ctx})
	}
	return nil
}

// whole records the first reason the sources cannot be known.
func (r *reader) whole(ln int, what string) {
	if r.s.Whole == "" {
		r.s.Whole = fmt.Sprintf("line %d: %s depends on a variable the Dockerfile does not set (a base image's ENV may set it)", ln, what)
	}
}

// contextPath is a source as BuildKit marks it read (path.Join("/", src)),
// relative to the context root; "." for all of it.
func contextPath(s string) string {
	p := path.Join("/", s)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// env is a stage's environment as far as the Dockerfile sets it (ARG and
// ENV values) and a shell.EnvGetter. When open, names it does not hold may
// still be set by a base image's config, which this package does not read;
// tainted names hold values that were expanded from such names.
type env struct {
	vals    map[string]string
	keys    []string
	tainted map[string]bool
	open    bool
}

var _ shell.EnvGetter = (*env)(nil)

func (e *env) Get(k string) (string, bool) {
	v, ok := e.vals[shell.NormalizeEnvKey(k)]
	return v, ok
}

func (e *env) Keys() []string { return e.keys }

func (e *env) set(k, v string, tainted bool) {
	k = shell.NormalizeEnvKey(k)
	if e.vals == nil {
		e.vals, e.tainted = map[string]string{}, map[string]bool{}
	}
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
	e.tainted[k] = tainted
}

// setOverridable sets a platform arg, unless a build arg overrides it.
func (e *env) setOverridable(k, v string, args map[string]string) {
	if o, ok := args[k]; ok {
		v = o
	}
	e.set(k, v, false)
}

func (e *env) clone() *env {
	c := &env{open: e.open}
	for _, k := range e.keys {
		c.set(k, e.vals[k], e.tainted[k])
	}
	return c
}

// expand expands word as BuildKit does; known is false when a real build
// may expand it differently: it uses a name the environment does not hold
// while a base image may set it, or a tainted name.
func (e *env) expand(lex *shell.Lex, word string) (string, bool, error) {
	res, err := lex.ProcessWordWithMatches(word, e)
	if err != nil {
		return "", false, err
	}
	known := !(e.open && len(res.Unmatched) > 0)
	for k := range res.Matched {
		if e.tainted[shell.NormalizeEnvKey(k)] {
			known = false
		}
	}
	return res.Result, known, nil
}
