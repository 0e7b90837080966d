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
// reads (see contextSources), after the ignore file that applies to the
// Dockerfile (dockerfile.IgnoreFiles: Dockerfile.dockerignore, else the
// context's .dockerignore): for each
// selected file, in path order, its slash path relative to the context, its
// owner-executable bit and the sha256 of its content (a symlink: its target;
// a directory: its path only).
//
// What a checkout does not reproduce is left out, so that two clones of one
// commit get one key: mtimes, owners, and the group/other permission bits
// (which follow the umask; git records only the executable bit). Files the
// Dockerfile does not read, and files the ignore file excludes, are not read.
//
// name is the named context the directory is ("" for the build context,
// whose ignore file may be the Dockerfile's own: dockerfilePath; a named
// context's is its own .dockerignore).
func contextDigest(contextDir, dockerfilePath string, df *dockerfile.Summary, name string) (string, error) {
	sources, whole := contextSources(df, name)
	if whole {
		sources = []string{"."}
	}
	if len(sources) == 0 {
		return "", nil
	}
	ignore, ignoreFile, err := readDockerignore(contextDir, dockerfilePath, name == "")
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
				return fmt.Errorf("%s: %w", ignoreFile, err)
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

// readDockerignore reads the ignore file that applies to a build of
// dockerfilePath with contextDir (see dockerfile.IgnoreFiles; for a named
// context, not the main one, only contextDir's .dockerignore) and returns
// its matcher and path; nil when there is none.
func readDockerignore(contextDir, dockerfilePath string, mainContext bool) (*patternmatcher.PatternMatcher, string, error) {
	names := dockerfile.IgnoreFiles(filepath.ToSlash(dockerfilePath), filepath.ToSlash(contextDir))
	if !mainContext {
		names = names[1:] // a named context has only its own .dockerignore
	}
	for _, name := range names {
		p := filepath.FromSlash(name)
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, p, err
		}
		defer f.Close()
		pm, err := ignoreMatcher(f)
		if err != nil {
			return nil, p, fmt.Errorf("%s: %w", p, err)
		}
		return pm, p, nil
	}
	return nil, "", nil
}

// ignoreMatcher parses an ignore file as BuildKit does (patterns relative to
// the context root, a leading "/" dropped).
func ignoreMatcher(r io.Reader) (*patternmatcher.PatternMatcher, error) {
	patterns, err := ignorefile.ReadAll(r)
	if err != nil {
		return nil, err
	}
	for i, pat := range patterns {
		patterns[i] = strings.TrimPrefix(pat, "/")
	}
	return patternmatcher.New(patterns)
}
