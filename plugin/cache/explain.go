package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/registry"
)

// Explanation says how the probed Plans differ from the newest cache entry
// of the same scope (read from its dev.devcache.plans annotation).
type Explanation struct {
	Scope string `json:"scope"`
	// Against is the entry compared with ("" when there is none).
	Against string `json:"against,omitempty"`
	Created string `json:"created,omitempty"`
	// Differences are the Plan fields that differ, as JSON paths.
	Differences []Difference `json:"differences,omitempty"`
	// Note says why nothing could be compared.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// Difference is one changed Plan input.
type Difference struct {
	Path string `json:"path"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Text renders the explanation for the terminal.
func (e *Explanation) Text() string {
	var b strings.Builder
	switch {
	case e.Error != "":
		fmt.Fprintf(&b, "explain: cannot compare (scope %s): %s\n", e.Scope, e.Error)
	case e.Against == "":
		fmt.Fprintf(&b, "explain: %s\n", e.Note)
	default:
		fmt.Fprintf(&b, "explain: differs from %s (scope %s, created %s) in:\n", e.Against, e.Scope, e.Created)
		for _, d := range e.Differences {
			fmt.Fprintf(&b, "  %s: %s -> %s\n", d.Path, orNone(d.Old), orNone(d.New))
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Explain compares plans (whose key tag is tag) with the newest other
// entry of scope in repo.
func Explain(ctx context.Context, reg *registry.Client, repo name.Repository, tag, scope string, plans []*plan.Plan) (*Explanation, error) {
	entries, err := ListEntries(ctx, reg, repo)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Scope: scope}
	for _, e := range entries {
		if e.Tag == tag || e.Scope != scope || len(e.Plans) == 0 {
			continue
		}
		ex.Against = repo.Tag(e.Tag).String()
		ex.Created = e.Created.UTC().Format("2006-01-02T15:04:05Z")
		ex.Differences = diffPlans(e.Plans, plans)
		return ex, nil
	}
	ex.Note = fmt.Sprintf("no other entry of scope %q with a stored Plan (annotation %s) in %s", scope, AnnotationPlans, repo)
	return ex, nil
}

// diffPlans lists the leaves of the Plans' JSON that differ, by platform.
func diffPlans(old, cur []*plan.Plan) []Difference {
	flat := func(ps []*plan.Plan) map[string]string {
		m := map[string]string{}
		for _, p := range ps {
			prefix := ""
			if len(ps) > 1 || len(old) != len(cur) {
				prefix = "[" + p.Platform + "]"
			}
			var v any
			_ = json.Unmarshal(p.JSON(), &v)
			flatten(prefix, v, m)
		}
		return m
	}
	a, b := flat(old), flat(cur)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []Difference
	for k := range keys {
		if a[k] != b[k] {
			out = append(out, Difference{Path: k, Old: shorten(a[k]), New: shorten(b[k])})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten maps each JSON leaf under prefix to its compact JSON.
func flatten(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, x, out)
		}
	case []any:
		for i, x := range t {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), x, out)
		}
	default:
		b, _ := json.Marshal(t)
		out[prefix] = string(b)
	}
}

// shorten keeps long values (file contents) readable.
func shorten(s string) string {
	if len(s) <= 100 {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:80], len(s))
}
