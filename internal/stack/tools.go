package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
)

const (
	binBuildkitd = "buildkitd"
	binBuildctl  = "buildctl"
	binBuildx    = "docker-buildx" // the name the docker CLI looks for
	binCrane     = "crane"

	stampFile = ".stamp"
	// toolsRecipe changes whenever the way tools are built changes, so
	// that old builds are not reused.
	toolsRecipe = "tools/v2"
)

// toolSpec is one pinned tool, built from the module's tool directives.
type toolSpec struct {
	pkg        string // main package
	bin        string // name in BinDir
	mod        string // module whose required version is stamped into it
	versionVar string // the -X variable for that version, if any
}

var toolSpecs = []toolSpec{
	{"github.com/moby/buildkit/cmd/buildkitd", binBuildkitd, "github.com/moby/buildkit", "github.com/moby/buildkit/version.Version"},
	{"github.com/moby/buildkit/cmd/buildctl", binBuildctl, "github.com/moby/buildkit", "github.com/moby/buildkit/version.Version"},
	// Without a version, some tools (the reference devcontainer CLI)
	// refuse buildx.
	{"github.com/docker/buildx/cmd/buildx", binBuildx, "github.com/docker/buildx", "github.com/docker/buildx/version.Version"},
	{"github.com/google/go-containerregistry/cmd/crane", binCrane, "", ""},
}

// tools describes one build of the pinned tools.
type tools struct {
	moduleRoot string
	stamp      string            // hash of go.sum, the Go version and the recipe
	versions   map[string]string // module → version required by go.mod
}

func loadTools(moduleRoot string) (tools, error) {
	gosum, err := os.ReadFile(filepath.Join(moduleRoot, "go.sum"))
	if err != nil {
		return tools{}, fmt.Errorf("reading go.sum for the tools stamp: %w", err)
	}
	gomodPath := filepath.Join(moduleRoot, "go.mod")
	gomod, err := os.ReadFile(gomodPath)
	if err != nil {
		return tools{}, fmt.Errorf("reading go.mod: %w", err)
	}
	mf, err := modfile.ParseLax(gomodPath, gomod, nil)
	if err != nil {
		return tools{}, fmt.Errorf("parsing %s: %w", gomodPath, err)
	}
	t := tools{moduleRoot: moduleRoot, versions: map[string]string{}}
	for _, r := range mf.Require {
		t.versions[r.Mod.Path] = r.Mod.Version
	}
	for _, ts := range toolSpecs {
		if ts.mod != "" && t.versions[ts.mod] == "" {
			return tools{}, fmt.Errorf("%s does not require %s (the tool directive for %s needs it)", gomodPath, ts.mod, ts.pkg)
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s/%s\n", toolsRecipe, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	h.Write(gosum)
	t.stamp = hex.EncodeToString(h.Sum(nil))[:16]
	return t, nil
}

// defaultBinDir is where tools of this stamp live in the shared cache.
func (t tools) defaultBinDir(cacheDir string) string {
	return filepath.Join(cacheDir, "bin", t.stamp)
}

// upToDate reports whether binDir holds a complete build with this stamp.
func (t tools) upToDate(binDir string) bool {
	b, err := os.ReadFile(filepath.Join(binDir, stampFile))
	if err != nil || strings.TrimSpace(string(b)) != t.stamp {
		return false
	}
	for _, ts := range toolSpecs {
		if !fileExists(filepath.Join(binDir, ts.bin)) {
			return false
		}
	}
	return true
}

// ensure builds the tools into binDir unless a build with the same stamp is
// there. Concurrent callers (test binaries of several packages) serialize
// on a lock next to binDir, and a build becomes visible only once complete.
func (t tools) ensure(ctx context.Context, binDir string, log io.Writer) error {
	if t.upToDate(binDir) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(binDir), 0o755); err != nil {
		return fmt.Errorf("creating the tools directory: %w", err)
	}
	unlock, err := lockPath(ctx, binDir+".lock", log)
	if err != nil {
		return err
	}
	defer unlock()
	if t.upToDate(binDir) { // built by whoever held the lock
		return nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(binDir), ".build-")
	if err != nil {
		return fmt.Errorf("creating a temporary tools directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("making %s readable: %w", tmp, err)
	}

	fmt.Fprintf(log, "building buildkitd, buildctl, buildx and crane from go.mod's tool directives into %s (once per go.sum; a minute or more)\n", binDir)
	start := time.Now()
	if err := t.build(ctx, tmp, log); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, stampFile), []byte(t.stamp+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing the tools stamp: %w", err)
	}
	if err := install(tmp, binDir); err != nil {
		return err
	}
	fmt.Fprintf(log, "built tools in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

func (t tools) build(ctx context.Context, outDir string, log io.Writer) error {
	goBin, err := goCommand()
	if err != nil {
		return err
	}
	// One go build for all: the pattern form of -ldflags stamps each
	// tool's module version into that tool only.
	args := []string{"build", "-o", outDir + "/"}
	var pkgs []string
	for _, ts := range toolSpecs {
		if ts.versionVar != "" {
			args = append(args, "-ldflags", ts.pkg+"=-X "+ts.versionVar+"="+t.versions[ts.mod])
		}
		pkgs = append(pkgs, ts.pkg)
	}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = t.moduleRoot
	// The tools run on this host whatever the caller builds for, and
	// GOFLAGS such as -race must not leak into them (the stamp ignores
	// both).
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOOS=", "GOARCH=")
	var out strings.Builder
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = io.MultiWriter(&out, log)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), t.moduleRoot, err, lastLines(out.String(), 30))
	}
	for _, ts := range toolSpecs {
		if built := path.Base(ts.pkg); built != ts.bin {
			if err := os.Rename(filepath.Join(outDir, built), filepath.Join(outDir, ts.bin)); err != nil {
				return fmt.Errorf("naming %s: %w", ts.bin, err)
			}
		}
	}
	return nil
}

// install moves a finished build into binDir: a rename of the whole
// directory when binDir is new, else file by file with the stamp last.
func install(tmp, binDir string) error {
	if err := os.Rename(tmp, binDir); err == nil {
		return nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", binDir, err)
	}
	names := []string{}
	for _, ts := range toolSpecs {
		names = append(names, ts.bin)
	}
	for _, n := range append(names, stampFile) {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(binDir, n)); err != nil {
			return fmt.Errorf("installing %s into %s: %w", n, binDir, err)
		}
	}
	return nil
}

// staleBuildAge is how long a build of other tool versions (an older
// go.sum) stays in the shared cache.
const staleBuildAge = 7 * 24 * time.Hour

// pruneBuilds removes builds in the shared bin directory other than keep
// that have not been modified for staleBuildAge, with their lock files and
// abandoned temporary directories. Failures only cost disk space, so they
// are logged, not returned.
func pruneBuilds(parent, keep string, log io.Writer) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if name == keep || name == keep+".lock" {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleBuildAge {
			continue
		}
		if err := os.RemoveAll(filepath.Join(parent, name)); err != nil {
			fmt.Fprintf(log, "pruning old tools: %v\n", err)
			continue
		}
		fmt.Fprintf(log, "pruned old tools %s\n", filepath.Join(parent, name))
	}
}
