package policy

import (
	"fmt"
	"strings"
)

// ImageRepository normalises an image or OCI reference to its repository
// as Docker names it: registry/path without tag or digest, "docker.io" for
// Docker Hub and "library/" for its official images.
func ImageRepository(ref string) (string, error) {
	r := strings.TrimSpace(ref)
	if r == "" {
		return "", fmt.Errorf("empty reference")
	}
	if i := strings.Index(r, "@"); i >= 0 {
		r = r[:i]
	}
	// Drop a tag: a ":" after the last "/".
	if i := strings.LastIndex(r, ":"); i >= 0 && !strings.Contains(r[i:], "/") {
		r = r[:i]
	}
	if r == "" || strings.ContainsAny(r, " \t\n") {
		return "", fmt.Errorf("invalid reference")
	}
	return normalizeRepo(strings.ToLower(r)), nil
}

// normalizeRepo adds Docker Hub's registry and library/ where Docker would.
func normalizeRepo(r string) string {
	first, rest, hasSlash := strings.Cut(r, "/")
	if !hasSlash || !(strings.ContainsAny(first, ".:") || first == "localhost") {
		if !strings.Contains(r, "/") {
			return "docker.io/library/" + r
		}
		return "docker.io/" + r
	}
	if first == "index.docker.io" || first == "registry-1.docker.io" {
		first = "docker.io"
	}
	if first == "docker.io" && !strings.Contains(rest, "/") {
		return first + "/library/" + rest
	}
	return first + "/" + rest
}

// normalizePattern normalises a pattern like a repository (URLs stay as
// written).
func normalizePattern(p string) string {
	if strings.Contains(p, "://") || strings.HasPrefix(p, "*") {
		return p
	}
	return normalizeRepo(strings.ToLower(p))
}
