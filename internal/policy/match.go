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

// match is a memoised matcher: O(len(p)·len(s)) whatever the wildcards,
// so a hostile reference cannot make a pattern backtrack exponentially.
func match(p, s string) bool {
	memo := make(map[[2]int]bool)
	var m func(i, j int) bool
	m = func(i, j int) bool {
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(p):
			r = j == len(s)
		case strings.HasPrefix(p[i:], "**"):
			k := i
			for k < len(p) && p[k] == '*' {
				k++
			}
			// "**" matches nothing, or one more character of anything.
			r = m(k, j) || (j < len(s) && m(i, j+1))
		case p[i] == '*':
			r = m(i+1, j) || (j < len(s) && s[j] != '/' && m(i, j+1))
		default:
			r = j < len(s) && p[i] == s[j] && m(i+1, j+1)
		}
		memo[key] = r
		return r
	}
	return m(0, 0)
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
