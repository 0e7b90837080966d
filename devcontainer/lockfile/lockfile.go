// Package lockfile reads and writes devcontainer-lock.json byte for byte as
// the reference devcontainer CLI (lockfile.ts): keys sorted with locale
// collation, JSON.stringify(…, null, 2) plus a newline, frozen mode with the
// reference's messages. It does no network I/O and must not import BuildKit.
package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/jsonc"
	"github.com/devcache/devcache/internal/atomicfile"
)

// Feature is one entry of a lockfile.
type Feature struct {
	// Key is the feature reference as the user wrote it (original case).
	Key string
	// Version is the feature's version ("" leaves the key out, as
	// JSON.stringify leaves out undefined).
	Version string
	// Resolved is registry/path@sha256:… for OCI, the URL for tarballs.
	Resolved string
	// Integrity is the manifest digest (OCI) or the download's digest.
	Integrity string
	// DependsOn are the keys of the feature's dependsOn, when any.
	DependsOn []string
}

// Lockfile is a devcontainer-lock.json.
type Lockfile struct {
	Features []Feature
}

// Path is where the lockfile of a config lives: next to it, named
// .devcontainer-lock.json when the config's name starts with a dot, else
// devcontainer-lock.json.
func Path(configPath string) string {
	name := "devcontainer-lock.json"
	if strings.HasPrefix(filepath.Base(configPath), ".") {
		name = ".devcontainer-lock.json"
	}
	return filepath.Join(filepath.Dir(configPath), name)
}

// FromInstalls generates the lockfile of an install order: OCI and tarball
// features (local ones are never locked), sorted by key with locale
// collation; when a key occurs twice the later entry's values win.
func FromInstalls(installs []*features.Install) *Lockfile {
	var entries []Feature
	for _, in := range installs {
		src := in.Node.Source
		var resolved string
		switch in.Node.Ref.Kind {
		case features.KindOCI:
			resolved = in.Node.Ref.OCI.Registry + "/" + in.Node.Ref.OCI.Path + "@" + src.ManifestDigest
		case features.KindTarball:
			resolved = in.Node.Ref.TarballURL
		default:
			continue
		}
		var deps []string
		for _, d := range in.Metadata.DependsOn {
			deps = append(deps, d.Key)
		}
		entries = append(entries, Feature{Key: in.Node.Ref.UserFeatureID, Version: in.Metadata.Version,
			Resolved: resolved, Integrity: src.Integrity(), DependsOn: deps})
	}
	return Generate(entries)
}

// Generate sorts entries as the reference does and merges duplicate keys.
func Generate(entries []Feature) *Lockfile {
	sorted := append([]Feature(nil), entries...)
	sort.SliceStable(sorted, func(i, j int) bool { return features.LocaleCompare(sorted[i].Key, sorted[j].Key) < 0 })
	lf := &Lockfile{}
	pos := map[string]int{}
	for _, e := range sorted {
		if i, ok := pos[e.Key]; ok {
			lf.Features[i] = e
			continue
		}
		pos[e.Key] = len(lf.Features)
		lf.Features = append(lf.Features, e)
	}
	return lf
}

// Value is the lockfile as a JSON value in the reference's key order.
func (l *Lockfile) Value() *jsonc.Object {
	fs := jsonc.NewObject()
	for _, f := range l.Features {
		e := jsonc.NewObject()
		if f.Version != "" {
			e.Set("version", f.Version)
		}
		e.Set("resolved", f.Resolved)
		e.Set("integrity", f.Integrity)
		if len(f.DependsOn) > 0 {
			deps := make([]jsonc.Value, len(f.DependsOn))
			for i, d := range f.DependsOn {
				deps[i] = d
			}
			e.Set("dependsOn", deps)
		}
		fs.Set(f.Key, e)
	}
	root := jsonc.NewObject()
	root.Set("features", fs)
	return root
}

// Bytes is the file content the reference writes.
func (l *Lockfile) Bytes() []byte {
	return []byte(jsonc.StringifyIndent(l.Value(), "  ") + "\n")
}

// Pins maps each key to its integrity: what resolution must fetch.
func (l *Lockfile) Pins() map[string]string {
	m := map[string]string{}
	if l == nil {
		return m
	}
	for _, f := range l.Features {
		m[f.Key] = f.Integrity
	}
	return m
}

// State is a lockfile as found on disk.
type State struct {
	Path string
	// Exists is false when there is no file.
	Exists bool
	// Init is true for an empty (whitespace-only) file: the reference's
	// marker to create the lockfile; it pins nothing.
	Init bool
	// Lock is the parsed lockfile (nil when missing, empty or Init).
	Lock *Lockfile
	// Raw is the file content.
	Raw []byte
}

// Read reads the lockfile at path. A missing file is no error.
func Read(path string) (*State, error) {
	return ReadWith(os.ReadFile, path)
}

// ReadWith is Read with the file read by readFile (which must return an
// error satisfying errors.Is(err, fs.ErrNotExist) for a missing file).
func ReadWith(readFile func(string) ([]byte, error), path string) (*State, error) {
	data, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Path: path}, nil
	}
	if err != nil {
		return nil, err
	}
	st := &State{Path: path, Exists: true, Raw: data}
	if len(bytes.TrimSpace(data)) == 0 {
		st.Init = true
		return st, nil
	}
	lf, err := Parse(filepath.Base(path), data)
	if err != nil {
		return nil, err
	}
	st.Lock = lf
	return st, nil
}

// Parse parses lockfile content (strict JSON, as the reference's JSON.parse).
func Parse(file string, data []byte) (*Lockfile, error) {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("%s: invalid JSON: %v", file, err)
	}
	v, err := jsonc.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	root, ok := v.(*jsonc.Object)
	if !ok {
		return nil, fmt.Errorf("%s: must contain a JSON object", file)
	}
	fv, ok := root.Get("features")
	fo, isObj := fv.(*jsonc.Object)
	if !ok || !isObj {
		return nil, fmt.Errorf("%s:%d: features: must be an object", file, root.Line("features"))
	}
	lf := &Lockfile{}
	for _, k := range fo.Keys() {
		ev, _ := fo.Get(k)
		eo, isObj := ev.(*jsonc.Object)
		if !isObj {
			return nil, fmt.Errorf("%s:%d: features[%q]: must be an object", file, fo.Line(k), k)
		}
		f := Feature{Key: k}
		for key, dst := range map[string]*string{"version": &f.Version, "resolved": &f.Resolved, "integrity": &f.Integrity} {
			if x, ok := eo.Get(key); ok {
				s, isStr := x.(string)
				if !isStr {
					return nil, fmt.Errorf("%s:%d: features[%q].%s: must be a string", file, eo.Line(key), k, key)
				}
				*dst = s
			}
		}
		if x, ok := eo.Get("dependsOn"); ok {
			arr, isArr := x.([]jsonc.Value)
			if !isArr {
				return nil, fmt.Errorf("%s:%d: features[%q].dependsOn: must be an array", file, eo.Line("dependsOn"), k)
			}
			for _, d := range arr {
				s, _ := d.(string)
				f.DependsOn = append(f.DependsOn, s)
			}
		}
		lf.Features = append(lf.Features, f)
	}
	return lf, nil
}

// Errors of frozen mode, with the reference's messages.
var (
	ErrDoesNotExist = errors.New("Lockfile does not exist.")
	ErrDoesNotMatch = errors.New("Lockfile does not match.")
)

// Check compares the lockfile on disk with the generated one the way the
// reference does before writing: the old content is normalised through a
// JSON parse and re-stringify (so formatting does not matter, key order
// does). It reports whether the file must be (re)written; in frozen mode a
// missing or differing file is an error instead.
func Check(st *State, generated *Lockfile, frozen bool) (write bool, err error) {
	if frozen && !st.Exists {
		return false, ErrDoesNotExist
	}
	newContent := string(generated.Bytes())
	if st.Exists && normalize(st.Raw) == newContent {
		return false, nil
	}
	if frozen {
		return false, ErrDoesNotMatch
	}
	return true, nil
}

// Write writes the generated lockfile when Check says so.
func Write(st *State, generated *Lockfile, frozen bool) error {
	write, err := Check(st, generated, frozen)
	if err != nil || !write {
		return err
	}
	return atomicfile.Write(st.Path, generated.Bytes(), 0o644)
}

// normalize is JSON.stringify(JSON.parse(x), null, 2) + "\n", or "" when x
// is not valid JSON.
func normalize(data []byte) string {
	if !json.Valid(data) {
		return ""
	}
	v, err := jsonc.Parse(data)
	if err != nil {
		return ""
	}
	return jsonc.StringifyIndent(v, "  ") + "\n"
}
