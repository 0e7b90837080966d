package conformance

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/devcache/devcache/internal/imagetest"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// built is what the suite compares of one pushed image.
type built struct {
	Config v1.Config
	Layers int
	Files  map[string]string // path → content; absent files are missing
}

const absent = "<absent>"

// readImage reads ref's config and the given files (from the flattened
// filesystem) from the registry.
func readImage(ref string, files []string) (*built, error) {
	img, err := imagetest.Read(ref)
	if err != nil {
		return nil, err
	}
	b := &built{Config: img.Config.Config, Layers: len(img.Config.RootFS.DiffIDs), Files: map[string]string{}}
	for _, f := range files {
		n := "/" + strings.TrimPrefix(path.Clean(f), "/")
		if v, ok := img.Files[n]; ok {
			b.Files[n] = v
		} else if _, isDir := img.Files[n+"/"]; isDir {
			b.Files[n] = fmt.Sprintf("<type %c>", tar.TypeDir)
		} else {
			b.Files[n] = absent
		}
	}
	return b, nil
}

// diff lists the differences between the reference image and ours (built
// by route), after applying the declared deviations (which must hold
// exactly).
func diff(ref, ours *built, route string, devs []deviation) []string {
	var out []string
	refEnv, ourEnv := slices.Clone(ref.Config.Env), slices.Clone(ours.Config.Env)
	for _, d := range devs {
		got := lookupEnv(refEnv, d.Env)
		if got != d.Reference {
			out = append(out, fmt.Sprintf("deviation %s: the reference has %s=%q, the fixture expects it to have %q (has the reference changed?)", d.Env, d.Env, got, d.Reference))
		}
		got = lookupEnv(ourEnv, d.Env)
		if got != d.Devcache {
			out = append(out, fmt.Sprintf("deviation %s: %s has %s=%q, want the corrected %q", d.Env, route, d.Env, got, d.Devcache))
		}
		refEnv = setEnv(refEnv, d.Env, "<deviation>")
		ourEnv = setEnv(ourEnv, d.Env, "<deviation>")
	}
	if !slices.Equal(refEnv, ourEnv) {
		out = append(out, fmt.Sprintf("Env:\n  reference %s\n  %-9s %s", js(refEnv), route, js(ourEnv)))
	}
	if ref.Config.User != ours.Config.User {
		out = append(out, fmt.Sprintf("User: reference %q, %s %q", ref.Config.User, route, ours.Config.User))
	}
	if ref.Config.WorkingDir != ours.Config.WorkingDir {
		out = append(out, fmt.Sprintf("WorkingDir: reference %q, %s %q", ref.Config.WorkingDir, route, ours.Config.WorkingDir))
	}
	if !slices.Equal(ref.Config.Entrypoint, ours.Config.Entrypoint) {
		out = append(out, fmt.Sprintf("Entrypoint: reference %s, %s %s", js(ref.Config.Entrypoint), route, js(ours.Config.Entrypoint)))
	}
	if !slices.Equal(ref.Config.Cmd, ours.Config.Cmd) {
		out = append(out, fmt.Sprintf("Cmd: reference %s, %s %s", js(ref.Config.Cmd), route, js(ours.Config.Cmd)))
	}
	const meta = "devcontainer.metadata"
	if a, b := ref.Config.Labels[meta], ours.Config.Labels[meta]; a != b {
		out = append(out, fmt.Sprintf("label %s (byte for byte):\n  reference %s\n  %-9s %s", meta, a, route, b))
	}
	keys := map[string]bool{}
	for k := range ref.Config.Labels {
		keys[k] = true
	}
	for k := range ours.Config.Labels {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		if k == meta {
			continue
		}
		a, okA := ref.Config.Labels[k]
		b, okB := ours.Config.Labels[k]
		if a != b || okA != okB {
			out = append(out, fmt.Sprintf("label %s: reference %s, %s %s", k, labelStr(a, okA), route, labelStr(b, okB)))
		}
	}
	var files []string
	for f := range ref.Files {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		if ref.Files[f] != ours.Files[f] {
			out = append(out, fmt.Sprintf("file %s:\n  reference %q\n  %-9s %q", f, ref.Files[f], route, ours.Files[f]))
		}
	}
	return out
}

func labelStr(v string, ok bool) string {
	if !ok {
		return "(none)"
	}
	return fmt.Sprintf("%q", v)
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func lookupEnv(env []string, k string) string {
	for _, kv := range env {
		if key, v, _ := strings.Cut(kv, "="); key == k {
			return v
		}
	}
	return "<unset>"
}

func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if key, _, _ := strings.Cut(kv, "="); key == k {
			env[i] = k + "=" + v
		}
	}
	return env
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
