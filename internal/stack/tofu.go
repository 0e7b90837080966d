package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// TofuVersion is the pinned OpenTofu release whose CLI runs the Terraform
// provider's acceptance tests (terraform-plugin-testing, `tofu validate` of
// the example template). HashiCorp's Terraform does not build from its Go
// module (its go.mod replaces local sub-modules the module zip lacks);
// OpenTofu's replaces only hcl with a published fork, which the build
// honours by building inside the module as its main module.
const TofuVersion = "v1.12.6"

const tofuModule = "github.com/opentofu/opentofu"

// Tofu returns the path of the pinned OpenTofu CLI, built once per machine
// (per Go version) into CacheDir()/bin/tofu-<version>-<go version>/tofu from
// the Go module proxy; concurrent callers wait on a lock. A cold build takes
// minutes on two cores.
func Tofu(ctx context.Context, log io.Writer) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "bin", "tofu-"+TofuVersion+"-"+runtime.Version())
	bin := filepath.Join(dir, "tofu")
	if fileExists(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("creating the tools directory: %w", err)
	}
	unlock, err := lockPath(ctx, dir+".lock", log)
	if err != nil {
		return "", err
	}
	defer unlock()
	if fileExists(bin) { // built by whoever held the lock
		return bin, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-tofu-")
	if err != nil {
		return "", fmt.Errorf("creating a temporary tools directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "building OpenTofu %s from the Go module proxy into %s (once per machine; several minutes)\n", TofuVersion, dir)
	start := time.Now()
	if err := buildTofu(ctx, tmp, log); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, "out"), dir); err != nil {
		return "", fmt.Errorf("installing tofu into %s: %w", dir, err)
	}
	fmt.Fprintf(log, "built OpenTofu in %s\n", time.Since(start).Round(100*time.Millisecond))
	return bin, nil
}

// buildTofu downloads the module, copies it to tmp/src (the module cache is
// read-only) and builds tmp/out/tofu there.
func buildTofu(ctx context.Context, tmp string, log io.Writer) error {
	goBin, err := goCommand()
	if err != nil {
		return err
	}
	env := append(os.Environ(), "GOFLAGS=-mod=readonly -trimpath", "GOOS=", "GOARCH=", "GOWORK=off", "GOTOOLCHAIN=local")
	run := func(dir string, args ...string) ([]byte, error) {
		var stderr strings.Builder
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir, cmd.Env, cmd.Stderr = dir, env, io.MultiWriter(&stderr, log)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 30))
		}
		return out, nil
	}
	out, err := run(tmp, "mod", "download", "-json", tofuModule+"@"+TofuVersion)
	if err != nil {
		return err
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download %s@%s: no module directory in %q", tofuModule, TofuVersion, out)
	}
	src := filepath.Join(tmp, "src")
	if err := os.CopyFS(src, os.DirFS(mod.Dir)); err != nil {
		return fmt.Errorf("copying %s: %w", mod.Dir, err)
	}
	// dev=no: a release build, reporting TofuVersion without "-dev".
	_, err = run(src, "build", "-ldflags", "-s -w -X "+tofuModule+"/version.dev=no", "-o", filepath.Join(tmp, "out", "tofu"), "./cmd/tofu")
	return err
}
