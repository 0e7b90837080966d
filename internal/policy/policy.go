package policy

import (
	"fmt"
	"path"
	"strings"
)

// Kind is what kind of source a reference names, for error messages.
type Kind string

// Kinds of sources.
const (
	KindImage      Kind = "image"
	KindDockerfile Kind = "Dockerfile FROM"
	KindFeature    Kind = "feature"
)

// Rule is one parsed pattern.
type Rule struct {
	// Pattern is the rule as written by the user.
	Pattern string
	// Deny is true for "!pattern".
	Deny bool
	// norm is the normalised pattern that is matched.
	norm string
}

// Policy is an ordered list of rules. The zero Policy allows everything.
type Policy struct {
	Rules []Rule
}

// Parse parses patterns (as given to --allow, possibly comma-separated).
func Parse(patterns []string) (*Policy, error) {
	p := &Policy{}
	for _, field := range patterns {
		for _, raw := range strings.Split(field, ",") {
			raw = strings.TrimSpace(raw)
			if raw == "" {
				continue
			}
			r := Rule{Pattern: raw}
			pat := raw
			if strings.HasPrefix(pat, "!") {
				r.Deny = true
				pat = strings.TrimSpace(pat[1:])
			}
			if pat == "" {
				return nil, fmt.Errorf("--allow %q: empty pattern", raw)
			}
			if strings.ContainsAny(pat, "@") || strings.Contains(pat, "[") {
				return nil, fmt.Errorf("--allow %q: a pattern names repositories (registry/path with * and **), not tags, digests or character classes", raw)
			}
			r.norm = normalizePattern(pat)
			if _, err := path.Match(strings.ReplaceAll(r.norm, "**", "*"), ""); err != nil {
				return nil, fmt.Errorf("--allow %q: %v", raw, err)
			}
			p.Rules = append(p.Rules, r)
		}
	}
	return p, nil
}

// Empty tells whether the policy allows everything.
func (p *Policy) Empty() bool { return p == nil || len(p.Rules) == 0 }

// Strings are the rules as written (what DEVCACHE_ALLOW and the frontend
// option carry).
func (p *Policy) Strings() []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p.Rules))
	for i, r := range p.Rules {
		out[i] = r.Pattern
	}
	return out
}

// Attr is the policy as one comma-separated value (the frontend option
// devcache-allow); Parse([]string{p.Attr()}) gives the same policy.
func (p *Policy) Attr() string { return strings.Join(p.Strings(), ",") }

// RefusedError is returned for a source the policy refuses.
type RefusedError struct {
	Kind Kind
	// Ref is the reference as written; Subject what was matched.
	Ref, Subject string
	// Rule is the deny rule that matched, or nil when no rule matched.
	Rule  *Rule
	Rules []string
}

func (e *RefusedError) Error() string {
	if e.Rule != nil {
		return fmt.Sprintf("source policy: %s %q (%s) is refused by the rule --allow %q; remove that rule or use an allowed source", e.Kind, e.Ref, e.Subject, e.Rule.Pattern)
	}
	return fmt.Sprintf("source policy: %s %q (%s) matches none of the --allow rules [%s]; add a rule such as --allow %q or use an allowed source", e.Kind, e.Ref, e.Subject, strings.Join(e.Rules, " "), suggest(e.Subject))
}

// CheckImage checks an image reference (base image or Dockerfile FROM).
func (p *Policy) CheckImage(kind Kind, ref string) error {
	if p.Empty() {
		return nil
	}
	repo, err := ImageRepository(ref)
	if err != nil {
		return fmt.Errorf("source policy: %s %q: %v", kind, ref, err)
	}
	return p.check(kind, ref, repo)
}

// CheckFeature checks a feature: ref is the reference as written, source
// its OCI repository (registry/path) or tarball URL; local features pass.
func (p *Policy) CheckFeature(ref, source string, local bool) error {
	if p.Empty() || local {
		return nil
	}
	subject := source
	if !strings.Contains(source, "://") {
		s, err := ImageRepository(source)
		if err != nil {
			return fmt.Errorf("source policy: feature %q: %v", ref, err)
		}
		subject = s
	}
	return p.check(KindFeature, ref, subject)
}

func (p *Policy) check(kind Kind, ref, subject string) error {
	var last *Rule
	for i := range p.Rules {
		if Match(p.Rules[i].norm, subject) {
			last = &p.Rules[i]
		}
	}
	if last != nil && !last.Deny {
		return nil
	}
	return &RefusedError{Kind: kind, Ref: ref, Subject: subject, Rule: last, Rules: p.Strings()}
}

func suggest(subject string) string {
	if i := strings.LastIndex(subject, "/"); i > 0 {
		return subject[:i] + "/*"
	}
	return subject
}
