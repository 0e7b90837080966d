package plan

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/devcache/devcache/devcontainer"
)

// ImagePin is an image a Dockerfile build reads: the FROM of any stage,
// COPY --from=<image> or RUN --mount=from=<image>, with
// the digest its tag pointed to when the Plan was made (an index or a
// manifest), so that a moved tag changes the key.
type ImagePin struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

// dockerfileImages resolves every external image the Dockerfile names.
// References that still hold a variable after the global ARGs and build
// args are expanded cannot be pinned from the client; their text is in the
// Plan's Dockerfile content. So is a "# syntax=" frontend's, which is not
// pinned yet (clients often cannot reach the registry their builder
// mirrors it from).
func dockerfileImages(ctx context.Context, r Resolver, text string, args []devcontainer.EnvVar, platform string) ([]ImagePin, error) {
	refs := externalImageRefs(text, args, platform)
	pins := make([]ImagePin, 0, len(refs))
	for _, ref := range refs {
		img, err := r.ResolveImage(ctx, ref.Ref, platform)
		if err != nil {
			return nil, fmt.Errorf("Dockerfile %s %q: %w", ref.Use, ref.Ref, err)
		}
		d := img.Digest
		if d == "" {
			d = img.ManifestDigest
		}
		pins = append(pins, ImagePin{Ref: ref.Ref, Digest: d})
	}
	return pins, nil
}

var (
	fromRE    = regexp.MustCompile(`(?i)^FROM\s+((?:--\S+\s+)*)(\S+)(?:\s+AS\s+(\S+))?`)
	argRE     = regexp.MustCompile(`(?i)^ARG\s+(.+)$`)
	fromFlag  = regexp.MustCompile(`(?i)--from=(\S+)`)
	varExprRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
)

// imageRef is an image reference a Dockerfile uses, and how (FROM, COPY
// --from, RUN --mount from): for error messages.
type imageRef struct{ Ref, Use string }

// externalImageRefs lists, sorted by reference and without duplicates, the
// image references of FROM, COPY --from and RUN --mount=from that are
// neither stage names, stage indexes nor scratch.
func externalImageRefs(text string, args []devcontainer.EnvVar, platform string) []imageRef {
	escape := byte('\\')
	if m := escapeDirectiveRE.FindStringSubmatch(text); m != nil {
		escape = m[1][0]
	}
	vars := map[string]string{}
	os, arch, _ := strings.Cut(platform, "/")
	arch, variant, _ := strings.Cut(arch, "/")
	for _, p := range []string{"BUILD", "TARGET"} {
		vars[p+"PLATFORM"], vars[p+"OS"], vars[p+"ARCH"], vars[p+"VARIANT"] = platform, os, arch, variant
	}
	given := map[string]string{}
	for _, a := range args {
		given[a.Name] = a.Value
	}
	stages := map[string]bool{}
	found := map[string]string{}
	add := func(ref, use string) {
		l := strings.ToLower(ref)
		if ref == "" || strings.Contains(ref, "$") || stages[l] || l == "scratch" || isNumber(ref) {
			return
		}
		if _, ok := found[ref]; !ok {
			found[ref] = use
		}
	}
	seenFrom := false
	for _, ins := range logicalLines(text, escape) {
		if m := argRE.FindStringSubmatch(ins); m != nil && !seenFrom {
			for _, decl := range strings.Fields(m[1]) {
				k, v, hasDefault := strings.Cut(decl, "=")
				if g, ok := given[k]; ok {
					vars[k] = g
				} else if hasDefault {
					vars[k] = strings.Trim(expandVars(v, vars), `"'`)
				}
			}
			continue
		}
		if m := fromRE.FindStringSubmatch(ins); m != nil {
			seenFrom = true
			add(expandVars(m[2], vars), "FROM")
			if m[3] != "" {
				stages[strings.ToLower(m[3])] = true
			}
			continue
		}
		fields := strings.Fields(ins)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "COPY", "ADD":
			flags, _ := splitFlags(strings.TrimSpace(ins[len(fields[0]):]))
			if f, ok := flags["from"]; ok {
				add(strings.Trim(f, `"'`), strings.ToUpper(fields[0])+" --from")
			}
		case "RUN":
			for _, mm := range mountFlagRE.FindAllStringSubmatch(ins, -1) {
				for _, kv := range strings.Split(strings.Trim(mm[1], `"`), ",") {
					if k, v, _ := strings.Cut(kv, "="); strings.EqualFold(k, "from") {
						add(v, "RUN --mount from")
					}
				}
			}
		}
	}
	out := make([]imageRef, 0, len(found))
	for r, use := range found {
		out = append(out, imageRef{Ref: r, Use: use})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

// expandVars expands $VAR, ${VAR}, ${VAR:-word} and ${VAR:+word}; unknown
// variables stay as written.
func expandVars(s string, vars map[string]string) string {
	return varExprRE.ReplaceAllStringFunc(s, func(m string) string {
		sm := varExprRE.FindStringSubmatch(m)
		name := sm[1]
		if name == "" {
			name = sm[4]
		}
		v, ok := vars[name]
		switch sm[2] {
		case "-":
			if !ok || v == "" {
				return sm[3]
			}
		case "+":
			if ok && v != "" {
				return sm[3]
			}
			return ""
		}
		if !ok {
			return m
		}
		return v
	})
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
