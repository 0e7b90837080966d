package policy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/sourcepolicy"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
)

// Kind is what kind of source a reference names, for error messages.
type Kind string

// Kinds of sources.
const (
	KindImage      Kind = "image"
	KindDockerfile Kind = "Dockerfile FROM"
	KindSyntax     Kind = "Dockerfile syntax frontend"
	KindFeature    Kind = "feature"
	KindURL        Kind = "URL"
)

// Rule is one parsed pattern.
type Rule struct {
	// Pattern is the rule as written by the user.
	Pattern string
	// Deny is true for "!pattern".
	Deny bool
	// norm is the normalised pattern; urlRE and imageRE its BuildKit
	// selectors (see SourcePolicy).
	norm, urlRE, imageRE string
}

// Policy is an ordered list of rules. The zero Policy allows everything.
type Policy struct {
	Rules []Rule

	once   sync.Once
	engine *sourcepolicy.Engine
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
			r.norm = normalizePattern(pat)
			if err := validPattern(pat, r.norm); err != nil {
				return nil, fmt.Errorf("--allow %q: %v", raw, err)
			}
			if err := r.compile(); err != nil {
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
	// Cause is buildkitd's refusal this error explains (see Explain). It
	// is not unwrapped: BuildKit's gRPC error conversion would send the
	// cause's status, and its message, in place of this error's.
	Cause error
}

func (e *RefusedError) Error() string {
	if e.Rule != nil {
		return fmt.Sprintf("source policy: %s %q (%s) is refused by the rule --allow %q; remove that rule or use an allowed source", e.Kind, e.Ref, e.Subject, e.Rule.Pattern)
	}
	return fmt.Sprintf("source policy: %s %q (%s) matches none of the --allow rules [%s]; add a rule such as --allow %q or use an allowed source", e.Kind, e.Ref, e.Subject, strings.Join(e.Rules, " "), suggest(e.Subject))
}

// deniedRE finds the source in buildkitd's refusal, which reaches clients
// only as text ("source %q denied by policy", sourcepolicy/engine.go).
var deniedRE = regexp.MustCompile(`source "([^"]+)" denied by policy`)

// Explain turns buildkitd's refusal of a source by this policy into a
// *RefusedError naming the reference, its repository or URL and the rule
// (or the rules none of which matched); any other error is returned as is.
func (p *Policy) Explain(err error) error {
	if err == nil || p.Empty() {
		return err
	}
	var re *RefusedError
	if errors.As(err, &re) {
		return err
	}
	m := deniedRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	id := m[1]
	scheme, ref, _ := strings.Cut(id, "://")
	kind, subject := KindImage, ref
	switch scheme {
	case "http", "https":
		kind, ref, subject = KindURL, id, id
	case schemeImageBlob, schemeOCIBlob:
		kind = KindFeature
	}
	if kind != KindURL {
		if repo, rerr := ImageRepository(ref); rerr == nil {
			subject = repo
		}
	}
	return &RefusedError{Kind: kind, Ref: ref, Subject: subject, Rule: p.lastMatch(id), Rules: p.Strings(), Cause: err}
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
	return p.check(kind, ref, repo, schemeImage+"://"+repo)
}

// CheckFeature checks a feature: ref is the reference as written, source
// its OCI repository (registry/path) or tarball URL; local features pass.
func (p *Policy) CheckFeature(ref, source string, local bool) error {
	if p.Empty() || local {
		return nil
	}
	if strings.Contains(source, "://") {
		return p.check(KindFeature, ref, source, source)
	}
	repo, err := ImageRepository(source)
	if err != nil {
		return fmt.Errorf("source policy: feature %q: %v", ref, err)
	}
	return p.check(KindFeature, ref, repo, schemeImageBlob+"://"+repo)
}

// check evaluates the compiled policy with BuildKit's own engine on the
// identifier buildkitd would see, so the early checks and buildkitd agree.
func (p *Policy) check(kind Kind, ref, subject, identifier string) error {
	p.once.Do(func() { p.engine = sourcepolicy.NewEngine([]*spb.Policy{p.SourcePolicy()}) })
	_, err := p.engine.Evaluate(context.Background(), &pb.SourceOp{Identifier: identifier})
	if err == nil {
		return nil
	}
	if !errors.Is(err, sourcepolicy.ErrSourceDenied) {
		return fmt.Errorf("source policy: %s %q: %w", kind, ref, err)
	}
	return &RefusedError{Kind: kind, Ref: ref, Subject: subject, Rule: p.lastMatch(identifier), Rules: p.Strings()}
}

// lastMatch is the last rule whose selector matches identifier (the rule
// that decided), or nil when none does.
func (p *Policy) lastMatch(identifier string) *Rule {
	url := regexp.MustCompile(urlSchemes).MatchString(identifier)
	var last *Rule
	for i := range p.Rules {
		re := p.Rules[i].imageRE
		if url {
			re = p.Rules[i].urlRE
		}
		if regexp.MustCompile(re).MatchString(identifier) {
			last = &p.Rules[i]
		}
	}
	return last
}

func suggest(subject string) string {
	if i := strings.LastIndex(subject, "/"); i > 0 {
		return subject[:i] + "/*"
	}
	return subject
}

// validPattern refuses what a pattern cannot mean: tags, digests,
// character classes, URLs other than http(s).
func validPattern(pat, norm string) error {
	if strings.ContainsAny(pat, "@") || strings.Contains(pat, "[") {
		return errors.New("a pattern names repositories (registry/path with * and **), not tags, digests or character classes")
	}
	if scheme, _, ok := strings.Cut(norm, "://"); ok {
		if scheme != "http" && scheme != "https" && !strings.HasPrefix(scheme, "*") {
			return fmt.Errorf("%s:// sources are not governed by --allow; URL patterns start with https:// or http://", scheme)
		}
		return nil
	}
	if _, path, ok := strings.Cut(norm, "/"); ok && strings.Contains(path, ":") {
		return fmt.Errorf("a pattern names repositories, not tags: write %q", norm[:strings.LastIndex(norm, ":")])
	}
	if !strings.Contains(norm, "/") && !strings.HasPrefix(norm, "**") {
		return fmt.Errorf("a pattern names repositories (registry/path); for a whole registry write %q", norm+"/**")
	}
	return nil
}
