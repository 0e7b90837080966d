package frontend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/devcache/devcache/internal/imagetest"
	"github.com/devcache/devcache/internal/stack"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// writeTree writes files (slash path → content; a path ending in .sh is
// executable) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildResult is what a test build leaves to check.
type buildResult struct {
	vertexes map[string]*client.Vertex // by name, last status
	warnings []*client.VertexWarning
	ref      string
	logs     string
}

// ran tells whether an exec whose name contains substr ran (not cached).
func (r *buildResult) ran(substr string) bool {
	for n, v := range r.vertexes {
		if strings.Contains(n, substr) && !v.Cached && v.Completed != nil {
			return true
		}
	}
	return false
}

// execsRun lists the names of feature installs and other RUN steps that
// ran (not from cache).
func (r *buildResult) execsRun() []string {
	var out []string
	for n, v := range r.vertexes {
		if (strings.Contains(n, "install feature") || strings.Contains(n, "home directories") || strings.HasPrefix(n, "[dev ") || strings.Contains(n, " RUN ")) && !v.Cached {
			out = append(out, n)
		}
	}
	return out
}

// build runs the frontend in-process against the stack's buildkitd, as the
// plugin does, with ws as the context and its config dir as the dockerfile
// local, and pushes the image to ref.
func build(t *testing.T, s *stack.Stack, ws, configRel, ref string, attrs map[string]string) (*buildResult, error) {
	return buildWith(t, s, ws, configRel, ref, attrs, nil)
}

// buildWith is build with more solve options (cache import/export).
func buildWith(t *testing.T, s *stack.Stack, ws, configRel, ref string, attrs map[string]string, more func(*client.SolveOpt)) (*buildResult, error) {
	t.Helper()
	ctx := context.Background()
	c, err := s.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctxFS, err := fsutil.NewFS(ws)
	if err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(ws, filepath.Dir(filepath.FromSlash(configRel)))
	dfFS, err := fsutil.NewFS(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	fa := map[string]string{"filename": filepath.Base(configRel)}
	for k, v := range attrs {
		fa[k] = v
	}
	opt := client.SolveOpt{
		FrontendAttrs: fa,
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS},
		Exports:       []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": ref, "push": "true"}}},
	}
	if more != nil {
		more(&opt)
	}
	ch := make(chan *client.SolveStatus)
	res := &buildResult{vertexes: map[string]*client.Vertex{}, ref: ref}
	var mu sync.Mutex
	var logs strings.Builder
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		_, err := c.Build(ectx, opt, "", Build, ch)
		return err
	})
	eg.Go(func() error {
		for st := range ch {
			mu.Lock()
			for _, v := range st.Vertexes {
				res.vertexes[v.Name] = v
			}
			for _, l := range st.Logs {
				logs.Write(l.Data)
			}
			res.warnings = append(res.warnings, st.Warnings...)
			mu.Unlock()
		}
		return nil
	})
	err = eg.Wait()
	res.logs = logs.String()
	if err != nil && testing.Verbose() {
		t.Logf("build logs:\n%s", logs.String())
	}
	return res, err
}

// image reads ref's config and flattened filesystem from the registry.
func image(t *testing.T, ref string) (*v1.ConfigFile, map[string]string, int) {
	t.Helper()
	img, err := imagetest.Read(ref)
	if err != nil {
		t.Fatal(err)
	}
	return img.Config, img.Files, img.Layers
}
