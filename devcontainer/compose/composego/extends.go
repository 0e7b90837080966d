package composego

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/consts"
	"go.yaml.in/yaml/v4"
)

// extendsLoader is a compose-go ResourceLoader for `extends: {file: …}`
// that reads the file through Options.ReadFile, so that on the
// // syntax= route it comes from the build context like the Compose files
// themselves. compose-go reads a loaded resource from a disk path: the
// content is staged under root at its own path.
type extendsLoader struct {
	root       string
	workingDir string          // the project directory
	main       map[string]bool // the Compose files given to Load
	readFile   func(string) ([]byte, error)
}

func newExtendsLoader(o Options, workingDir string) (*extendsLoader, error) {
	root, err := os.MkdirTemp("", "devcache-compose-extends-")
	if err != nil {
		return nil, err
	}
	l := &extendsLoader{root: filepath.ToSlash(root), workingDir: workingDir, main: map[string]bool{}, readFile: o.ReadFile}
	for _, f := range o.Files {
		l.main[f] = true
	}
	return l, nil
}

func (l *extendsLoader) close() { os.RemoveAll(filepath.FromSlash(l.root)) }

// Accept takes every local path (compose-go puts its own loader last).
func (l *extendsLoader) Accept(p string) bool { return !strings.Contains(p, "://") }

// Load reads p, relative to the project directory when a Compose file
// names it and to the extended file's folder when an extended file does
// (as compose-go's own loader), and stages it.
func (l *extendsLoader) Load(ctx context.Context, p string) (string, error) {
	full := l.resolve(ctx, p)
	data, err := l.readFile(full)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("extends: file %s not found", full)
	}
	if err != nil {
		return "", fmt.Errorf("extends: %w", err)
	}
	if data, err = absoluteExtends(data, path.Dir(full)); err != nil {
		return "", fmt.Errorf("%s: %w", full, err)
	}
	local := filepath.Join(filepath.FromSlash(l.root), filepath.FromSlash(full))
	if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
		return "", err
	}
	return local, os.WriteFile(local, data, 0o600)
}

// absoluteExtends makes the relative `extends.file` values of an extended
// file absolute against its folder dir. compose-go resolves them itself
// only for files its own loader reads (it takes the paths this loader
// accepts for remote ones), and the nested Load does not learn which file
// named them.
func absoluteExtends(data []byte, dir string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return data, nil // compose-go reports it, with the line
	}
	changed := false
	for _, svc := range mappingValues(mappingValue(doc.Content[0], "services")) {
		f := mappingValue(mappingValue(svc, "extends"), "file")
		if f != nil && f.Kind == yaml.ScalarNode && !path.IsAbs(f.Value) && !strings.Contains(f.Value, "://") {
			f.Value, changed = path.Join(dir, f.Value), true
		}
	}
	if !changed {
		return data, nil
	}
	return yaml.Marshal(&doc)
}

// mappingValue is the value of key in a mapping node; nil if none.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// mappingValues are the values of a mapping node.
func mappingValues(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []*yaml.Node
	for i := 1; i < len(n.Content); i += 2 {
		out = append(out, n.Content[i])
	}
	return out
}

// Dir is the folder of the extended file (its own, not the staged copy):
// its relative paths (build context, …) resolve against it.
func (l *extendsLoader) Dir(p string) string {
	return path.Dir(l.resolve(context.Background(), p))
}

// resolve is p's own path: relative to the file that names it.
func (l *extendsLoader) resolve(ctx context.Context, p string) string {
	p = filepath.ToSlash(p)
	if path.IsAbs(p) {
		return l.own(p)
	}
	dir := l.workingDir
	if from, ok := ctx.Value(consts.ComposeFileKey{}).(string); ok && !l.main[from] {
		dir = path.Dir(l.own(filepath.ToSlash(from)))
	}
	return path.Join(dir, p) // a Compose file's: against the project directory, as compose-go
}

// own is a path with the staging root removed.
func (l *extendsLoader) own(p string) string {
	if rest, ok := strings.CutPrefix(p, l.root+"/"); ok {
		return "/" + rest
	}
	return p
}

// unstage names files by their own path in a loader error.
func (l *extendsLoader) unstage(err error) error {
	if err == nil || !strings.Contains(err.Error(), l.root) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), filepath.FromSlash(l.root), ""))
}
