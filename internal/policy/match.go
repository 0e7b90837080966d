package policy

import (
	"fmt"
	"strings"
)

// Match reports whether subject matches a normalised pattern: "*" matches
// any run of characters except "/", "**" any run including "/", every other
// character itself. A pattern ending in "/**" also matches the prefix
// itself.
func Match(pattern, subject string) bool {
	if strings.HasSuffix(pattern, "/**") && subject == strings.TrimSuffix(pattern, "/**") {
		return true
	}
	return match(pattern, subject)
}

func match(p, s string) bool {
	for len(p) > 0 {
		if strings.HasPrefix(p, "**") {
			rest := strings.TrimLeft(p, "*")
			for i := 0; i <= len(s); i++ {
				if match(rest, s[i:]) {
					return true
				}
			}
			return false
		}
		if p[0] == '*' {
			rest := p[1:]
			for i := 0; i <= len(s); i++ {
				if match(rest, s[i:]) {
					return true
				}
				if i < len(s) && s[i] == '/' {
					break
				}
			}
			return false
		}
		if len(s) == 0 || p[0] != s[0] {
			return false
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}

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
