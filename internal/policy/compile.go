package policy

import (
	"regexp"
	"strings"

	spb "github.com/moby/buildkit/sourcepolicy/pb"
)

// Source identifier schemes, as BuildKit names sources (source/types).
const (
	schemeImage     = "docker-image"
	schemeImageBlob = "docker-image+blob"
	schemeOCIBlob   = "oci-layout+blob"
)

// imageSchemes are the sources named by an image repository: images and
// blobs (feature layers) fetched from a registry or from a client's OCI
// layout by repository@digest. oci-layout:// images (a client's own
// --base-image-cache-dir or --build-context layout) carry no repository
// and, like the build context, are the client's files: not governed.
var imageSchemes = `^(?:docker-image|docker-image\+blob|oci-layout\+blob)://`

// A repository is followed in an identifier by an optional tag and an
// optional digest (docker/distribution reference grammar).
const refSuffix = `(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?(?:@[A-Za-z0-9_+.-]+:[A-Za-z0-9=_-]+)?$`

// urlSchemes are the sources named by a URL (tarball features, Dockerfile
// ADD <url>).
const urlSchemes = `^https?://`

// notURL matches every identifier that does not start with http:// or
// https:// (RE2 has no negative lookahead, so the complement is spelled out).
const notURL = `^(?:$|[^h]|h(?:$|[^t])|ht(?:$|[^t])|htt(?:$|[^p])|http(?:$|[^s:])|https(?:$|[^:])|https?:(?:$|[^/])|https?:/(?:$|[^/]))`

// SourcePolicy compiles the policy into a BuildKit source policy, so that
// buildkitd applies it to every source of every solve of a build, nested
// Dockerfile sub-solves included. nil for the empty policy.
//
// BuildKit evaluates a policy's ALLOW/DENY rules in order, the last
// matching rule wins, and a source no rule matches is allowed
// (sourcepolicy/engine.go). The policy has two sections, each ending in a
// state that only its own sources can reach:
//
//  1. URLs: DENY every http(s) source, then each rule matched against the
//     whole identifier (which for http is the URL), then ALLOW every
//     identifier that is not http(s), undoing what a rule did to others.
//  2. Repositories: DENY every image and blob source, then each rule
//     matched against the identifier's repository, with any tag and
//     digest.
//
// So an image, blob or URL source is allowed exactly when the last rule
// matching its repository or URL is not negated (Check* say the same: they
// evaluate this policy), and other sources (the build context, git, a
// client's OCI layout) are left alone.
func (p *Policy) SourcePolicy() *spb.Policy {
	if p.Empty() {
		return nil
	}
	return &spb.Policy{Version: 1, Rules: p.BuildKitRules()}
}

// BuildKitRules is SourcePolicy's rule list, to append to another policy (the
// plugin's digest pins) so one policy carries both.
func (p *Policy) BuildKitRules() []*spb.Rule {
	if p.Empty() {
		return nil
	}
	rules := []*spb.Rule{regexRule(spb.PolicyAction_DENY, urlSchemes)}
	for _, r := range p.Rules {
		rules = append(rules, regexRule(r.action(), r.urlRE))
	}
	rules = append(rules, regexRule(spb.PolicyAction_ALLOW, notURL))
	rules = append(rules, regexRule(spb.PolicyAction_DENY, imageSchemes))
	for _, r := range p.Rules {
		rules = append(rules, regexRule(r.action(), r.imageRE))
	}
	return rules
}

func (r *Rule) action() spb.PolicyAction {
	if r.Deny {
		return spb.PolicyAction_DENY
	}
	return spb.PolicyAction_ALLOW
}

func regexRule(action spb.PolicyAction, re string) *spb.Rule {
	return &spb.Rule{Action: action, Selector: &spb.Selector{Identifier: re, MatchType: spb.MatchType_REGEX}}
}

// compile sets the rule's regular expressions from its normalised pattern.
func (r *Rule) compile() error {
	r.urlRE = "^" + globRE(r.norm, false) + "$"
	r.imageRE = imageSchemes + globRE(r.norm, true) + refSuffix
	for _, re := range []string{r.urlRE, r.imageRE} {
		if _, err := regexp.Compile(re); err != nil {
			return err
		}
	}
	return nil
}

// globRE translates a pattern: "*" is any run of characters except "/",
// "**" any run, other characters themselves; a pattern ending in "/**"
// also matches its prefix.
//
// For a repository (repo) the expression must match exactly the
// repository part of an identifier repo[:tag][@digest]: no wildcard
// matches "@", and wildcards in the pattern's last segment do not match
// ":" (a repository's last segment has none; Parse refuses a literal one),
// so a wildcard can never swallow the tag.
func globRE(pat string, repo bool) string {
	if prefix, ok := strings.CutSuffix(pat, "/**"); ok {
		return "(?:" + segmentsRE(prefix, repo, true) + "/" + doubleStar(repo, true) + "|" + segmentsRE(prefix, repo, false) + ")"
	}
	return segmentsRE(pat, repo, false)
}

// segmentsRE translates pat; more tells that the match continues with
// another segment ("/…"), so no token of pat is in the last segment.
func segmentsRE(pat string, repo, more bool) string {
	var b strings.Builder
	for i := 0; i < len(pat); {
		switch {
		case strings.HasPrefix(pat[i:], "**"):
			for i < len(pat) && pat[i] == '*' {
				i++
			}
			b.WriteString(doubleStar(repo, !more && !strings.Contains(pat[i:], "/")))
		case pat[i] == '*':
			i++
			b.WriteString(star(repo, !more && !strings.Contains(pat[i:], "/")))
		default:
			j := i + 1
			for j < len(pat) && pat[j] != '*' {
				j++
			}
			b.WriteString(regexp.QuoteMeta(pat[i:j]))
			i = j
		}
	}
	return b.String()
}

func star(repo, last bool) string {
	switch {
	case !repo:
		return `[^/]*`
	case last:
		return `[^/:@]*`
	}
	return `[^/@]*`
}

func doubleStar(repo, last bool) string {
	switch {
	case !repo:
		return `.*`
	case last:
		return `(?:[^@]*/)?[^/:@]*`
	}
	return `[^@]*`
}
