package features

import (
	"fmt"
	"regexp"
	"strings"
)

// OCIRef is an OCI feature reference parsed as the reference's getRef does.
type OCIRef struct {
	Registry  string `json:"registry"`  // "ghcr.io" (may carry a :port)
	Owner     string `json:"owner"`     // "devcontainers"
	Namespace string `json:"namespace"` // "devcontainers/features"
	Path      string `json:"path"`      // "devcontainers/features/go"
	// Resource is registry/namespace/id as written (lowercased; the
	// devcontainers-contrib → devcontainers-extra rewrite applies to Path,
	// Owner and Namespace only, as in the reference).
	Resource string `json:"resource"`
	ID       string `json:"id"`            // "go"
	Version  string `json:"version"`       // the tag or the digest
	Tag      string `json:"tag,omitempty"` // "1", "latest" when neither tag nor digest is given
	Digest   string `json:"digest,omitempty"`
}

var (
	ociPathRE    = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	ociVersionRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// ParseOCIRef parses an OCI feature reference: registry/namespace/id with an
// optional :tag or @sha256:digest. The whole input is lowercased first.
func ParseOCIRef(input string) (*OCIRef, error) {
	input = strings.ToLower(input)
	if strings.HasPrefix(input, ".") {
		return nil, fmt.Errorf("OCI reference %q must not start with '.'", input)
	}
	lastColon := strings.LastIndex(input, ":")
	lastAt := strings.LastIndex(input, "@")
	var resource, tag, digest string
	switch {
	case lastAt != -1:
		resource = input[:lastAt]
		d := input[lastAt+1:]
		parts := strings.Split(d, ":")
		if len(parts) != 2 {
			return nil, fmt.Errorf("failed to parse digest %q: expected sha256:<hex>", d)
		}
		if parts[0] != "sha256" {
			return nil, fmt.Errorf("digest algorithm of %q must be sha256", input)
		}
		// The reference only logs a digest that fails its regex.
		digest = d
	case lastColon != -1 && lastColon > strings.LastIndex(input, "/"):
		resource = input[:lastColon]
		tag = input[lastColon+1:]
	default:
		resource = input
		tag = "latest"
	}
	if tag != "" && !ociVersionRE.MatchString(tag) {
		return nil, fmt.Errorf("tag %q of %q is not a valid OCI tag", tag, input)
	}
	parts := strings.Split(resource, "/")
	if len(parts) > 1 && parts[1] == "devcontainers-contrib" {
		parts[1] = "devcontainers-extra"
	}
	r := &OCIRef{
		Registry: parts[0],
		ID:       parts[len(parts)-1],
		Resource: resource,
		Tag:      tag,
		Digest:   digest,
	}
	if len(parts) > 1 {
		r.Owner = parts[1]
		r.Namespace = strings.Join(parts[1:len(parts)-1], "/")
	}
	r.Path = r.Namespace + "/" + r.ID
	if !ociPathRE.MatchString(r.Path) {
		return nil, fmt.Errorf("path %q of %q must be <namespace>/<id> in lowercase letters, digits and . _ - separators", r.Path, input)
	}
	r.Version = digest
	if r.Version == "" {
		r.Version = tag
	}
	return r, nil
}

// Fetchable reports whether the reference CLI would ask a registry for this
// reference: the registry must contain a dot or start with "localhost".
// Otherwise the CLI treats the reference as a (legacy) GitHub release.
func (r *OCIRef) Fetchable() bool {
	return strings.Contains(r.Registry, ".") || strings.HasPrefix(r.Registry, "localhost")
}

// Repository is registry/path, what a registry client pulls from.
func (r *OCIRef) Repository() string { return r.Registry + "/" + r.Path }

// lastDelimiter is the reference's /[:@][^/]*$/.
var lastDelimiter = regexp.MustCompile(`[:@][^/]*$`)

// WithoutVersion is the reference's getFeatureIdWithoutVersion: the id with
// its trailing :tag or @digest removed.
func WithoutVersion(id string) string {
	if loc := lastDelimiter.FindStringIndex(id); loc != nil {
		return id[:loc[0]]
	}
	return id
}
