package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuilderName is the buildx builder the stack creates in its DOCKER_CONFIG.
const BuilderName = "devcache"

// ensureDockerConfig makes the stack's own DOCKER_CONFIG: the buildx plugin
// (a symlink to the built tool) and a remote builder on the stack's
// buildkitd, made current. Nothing of the user's docker config is read or
// written.
func (s *Stack) ensureDockerConfig(ctx context.Context, log io.Writer) error {
	plugins := filepath.Join(s.DockerConfig, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", plugins, err)
	}
	buildx := filepath.Join(s.BinDir, binBuildx)
	link := filepath.Join(plugins, binBuildx)
	if cur, err := os.Readlink(link); err != nil || cur != buildx {
		if err := removeIfExists(link); err != nil {
			return err
		}
		if err := os.Symlink(buildx, link); err != nil {
			return fmt.Errorf("installing the buildx plugin: %w", err)
		}
	}
	if s.builderConfigured() {
		return nil
	}
	// Start over: the buildx state in this directory is ours alone.
	if err := os.RemoveAll(filepath.Join(s.DockerConfig, "buildx")); err != nil {
		return fmt.Errorf("resetting buildx state: %w", err)
	}
	// buildx runs standalone when not started by the docker CLI, so no
	// docker client is needed here.
	args := []string{"create", "--name", s.Builder, "--driver", "remote", s.BuildkitAddr, "--use"}
	cmd := exec.CommandContext(ctx, buildx, args...)
	cmd.Env = s.buildxEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker-buildx %s: %w\n%s", strings.Join(args, " "), err, lastLines(string(out), 15))
	}
	fmt.Fprintf(log, "created buildx builder %s (remote, %s) in DOCKER_CONFIG=%s\n", s.Builder, s.BuildkitAddr, s.DockerConfig)
	return nil
}

// builderConfigured reports whether buildx's state already has our builder,
// on our endpoint, as the current one.
func (s *Stack) builderConfigured() bool {
	var inst struct {
		Driver string
		Nodes  []struct{ Endpoint string }
	}
	var cur struct{ Name string }
	dir := filepath.Join(s.DockerConfig, "buildx")
	if readJSON(filepath.Join(dir, "instances", s.Builder), &inst) != nil ||
		readJSON(filepath.Join(dir, "current"), &cur) != nil {
		return false
	}
	return inst.Driver == "remote" && len(inst.Nodes) == 1 && inst.Nodes[0].Endpoint == s.BuildkitAddr && cur.Name == s.Builder
}

// buildxEnv is the environment without anything that would point buildx at
// another config, context or builder, or make it think the docker CLI runs
// it.
func (s *Stack) buildxEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "DOCKER_CONFIG", k == "DOCKER_CONTEXT", k == "DOCKER_HOST",
			k == "BUILDX_CONFIG", k == "BUILDX_BUILDER", strings.HasPrefix(k, "DOCKER_CLI_PLUGIN_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "DOCKER_CONFIG="+s.DockerConfig)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
