package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/devcache/devcache/internal/dockerfile"
)

// contextDigest is the digest of the build-context files a Dockerfile
// reads (see contextSources), after the context's .dockerignore: for each
// selected file, in path order, its slash path relative to the context, its
// owner-executable bit and the sha256 of its content (a symlink: its target;
// a directory: its path only).
//
// What a checkout does not reproduce is left out, so that two clones of one
// commit get one key: mtimes, owners, and the group/other permission bits
// (which follow the umask; git records only the executable bit). Files the
// Dockerfile does not read, and files .dockerignore excludes, are not read.
//
// name is the named context the directory is ("" for the build context).
func contextDigest(contextDir string, df *dockerfile.Summary, name string) (string, error) {
	sources, whole := contextSources(df, name)
	if whole {
		sources = []string{"."}
	}
	if len(sources) == 0 {
		return "", nil
	}
	ignore, err := readDockerignore(contextDir)
	if err != nil {
		return "", err
	}
	var entries []string
	err = filepath.WalkDir(contextDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("build context %s: %w", contextDir, err)
		}
		r, err := filepath.Rel(contextDir, p)
		if err != nil || r == "." {
			return err
		}
		r = filepath.ToSlash(r)
		if ignore != nil {
			excluded, err := ignore.MatchesOrParentMatches(r)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(contextDir, ".dockerignore"), err)
			}
			if excluded {
				if d.IsDir() && !ignore.Exclusions() {
					return fs.SkipDir
				}
				return nil
			}
		}
		if !selected(r, sources) {
			return nil
		}
		e, err := contextEntry(p, r, d)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(entries)
	h := sha256.New()
	io.WriteString(h, "devcache-context-v1\n")
	for _, e := range entries {
		io.WriteString(h, e)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// selected tells whether the context path r, or one of its parent
// directories, is one of the sources (paths or Dockerfile wildcards).
func selected(r string, sources []string) bool {
	for _, s := range sources {
		if s == "." {
			return true
		}
		for p := r; p != "." && p != "/"; p = path.Dir(p) {
			if p == s {
				return true
			}
			if ok, _ := path.Match(s, p); ok {
				return true
			}
		}
	}
	return false
}

// contextEntry is one line of the digest input.
func contextEntry(full, r string, d fs.DirEntry) (string, error) {
	switch {
	case d.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(full)
		if err != nil {
			return "", fmt.Errorf("build context: %w", err)
		}
		return fmt.Sprintf("l %q %q\n", r, target), nil
	case d.IsDir():
		return fmt.Sprintf("d %q\n", r), nil
	case !d.Type().IsRegular():
		return fmt.Sprintf("o %q\n", r), nil
	}
	info, err := d.Info()
	if err != nil {
		return "", fmt.Errorf("build context: %w", err)
	}
	f, err := os.Open(full)
	if err != nil {
		return "", fmt.Errorf("build context: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("build context: reading %s: %w", full, err)
	}
	x := "-"
	if info.Mode().Perm()&0o100 != 0 {
		x = "x"
	}
	return fmt.Sprintf("f %q %s %s\n", r, x, hex.EncodeToString(h.Sum(nil))), nil
}

// readDockerignore reads <contextDir>/.dockerignore; nil when absent.
func readDockerignore(contextDir string) (*patternmatcher.PatternMatcher, error) {
	p := filepath.Join(contextDir, ".dockerignore")
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	for i, pat := range patterns {
		patterns[i] = strings.TrimPrefix(pat, "/")
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return pm, nil
}
