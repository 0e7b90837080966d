package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds docker-devcache and devcache into one directory, once.
func binaries(t *testing.T) (plugin, engine string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "devcache-plugin-test-")
		if buildErr == nil {
			_, buildErr = stack.InstallPlugin(t.Context(), binDir, "")
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, stack.PluginBinary), filepath.Join(binDir, stack.EngineBinary)
}

// alone copies the plugin binary into a directory of its own: no devcache
// binary beside it.
func alone(t *testing.T) string {
	t.Helper()
	plugin, _ := binaries(t)
	p := filepath.Join(t.TempDir(), stack.PluginBinary)
	data, err := os.ReadFile(plugin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs bin with args in an environment without a devcache binary on
// PATH, DEVCACHE_ENGINE unset unless env sets it.
func run(t *testing.T, env []string, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "XDG_CACHE_HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func workspace(t *testing.T, config string, files map[string]string) string {
	t.Helper()
	ws := t.TempDir()
	files[".devcontainer/devcontainer.json"] = config
	for name, body := range files {
		p := filepath.Join(ws, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// TestMetadataAnswer: docker-devcache's answer to docker-cli-plugin-metadata
// (the docker CLI's first call of every `docker devcache …`) is byte for
// byte what the plugin framework's metadata subcommand prints in the
// devcache binary (reached there with an extra argument, which skips its
// own early answer).
func TestMetadataAnswer(t *testing.T) {
	plugin, engine := binaries(t)
	early := run(t, nil, alone(t), "docker-cli-plugin-metadata")
	framework := run(t, nil, engine, "docker-cli-plugin-metadata", "framework")
	if early.code != 0 || framework.code != 0 || early.stdout != framework.stdout {
		t.Errorf("docker-devcache's metadata:\n%v\nthe framework's in devcache:\n%v", early, framework)
	}
	if own := run(t, nil, plugin, "docker-cli-plugin-metadata"); own.stdout != early.stdout {
		t.Errorf("metadata differs beside the engine: %v", own)
	}
}

// TestProbeRoutesAgree: probe answered by docker-devcache itself and by
// the devcache binary prints the same on a miss and on a hit, with the
// same exit codes; docker-devcache needs no devcache binary for it.
func TestProbeRoutesAgree(t *testing.T) {
	_, engine := binaries(t)
	plugin := alone(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{User: "dev"})
	ws := workspace(t, `{"image": "`+reg.Host+`/base/debian:12", "remoteEnv": {"A": "1"}}`, map[string]string{})
	args := []string{"probe", "--workspace-folder", ws, "--cache-repo", reg.Host + "/team/cache", "--format", "json"}

	miss, engineMiss := run(t, nil, plugin, args...), run(t, nil, engine, args...)
	if miss.code != 1 || miss != engineMiss {
		t.Fatalf("miss: docker-devcache %v\ndevcache %v", miss, engineMiss)
	}
	var res struct{ Key, Ref string }
	if err := json.Unmarshal([]byte(miss.stdout), &res); err != nil {
		t.Fatal(err)
	}
	reg.PushImage(t, strings.TrimPrefix(res.Ref, reg.Host+"/"), resolvetest.ImageConfig{})
	hit, engineHit := run(t, nil, plugin, args...), run(t, nil, engine, args...)
	if hit.code != 0 || !strings.Contains(hit.stdout, `"hit": true`) || hit != engineHit {
		t.Fatalf("hit: docker-devcache %v\ndevcache %v", hit, engineHit)
	}
	// Through the docker CLI's argument layout, its --config given.
	docker := run(t, []string{reexecEnv + "=docker"}, plugin, append([]string{"--config", t.TempDir(), "--context", "devcache", "devcache"}, args...)...)
	if docker != hit {
		t.Errorf("through docker's arguments: %v, want %v", docker, hit)
	}
	if v := run(t, nil, plugin, "version"); v.code != 0 || !strings.HasPrefix(v.stdout, "devcache ") {
		t.Errorf("version: %v", v)
	}
}

// TestHandOver: every other command, help (in the docker CLI's layout
// there), and a probe of a Compose config
// (only devcache links the Compose loader), runs the devcache binary with
// the same arguments; a missing one is a clear error.
func TestHandOver(t *testing.T) {
	plugin := alone(t)
	fake := filepath.Join(t.TempDir(), "devcache")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"engine: $*\"\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{engineEnv + "=" + fake}
	for _, args := range [][]string{
		{"plan", "--format", "json"},
		{"--workspace-folder", "/w", "push", "--cache-repo", "r/c"},
		{"help", "probe"},
		{"probe", "--help"},
		{"version", "-h"},
		{},
	} {
		r := run(t, env, plugin, args...)
		if want := strings.TrimSpace("engine: " + strings.Join(args, " ")); r.code != 7 || strings.TrimSpace(r.stdout) != want {
			t.Errorf("%q: %v, want exit 7 and %q", args, r, want)
		}
	}
	ws := workspace(t, `{"dockerComposeFile": "compose.yml", "service": "app"}`, map[string]string{
		".devcontainer/compose.yml": "services:\n  app:\n    image: busybox\n",
	})
	args := []string{"probe", "--workspace-folder", ws, "--cache-repo", "localhost:1/c"}
	if r := run(t, env, plugin, args...); r.code != 7 || strings.TrimSpace(r.stdout) != "engine: "+strings.Join(args, " ") {
		t.Errorf("Compose probe: %v", r)
	}

	r := run(t, nil, plugin, "plan")
	if r.code != 1 || !strings.Contains(r.stderr, "devcache binary") || !strings.Contains(r.stderr, engineEnv) {
		t.Errorf("no devcache binary: %v", r)
	}
	if r := run(t, nil, plugin, args...); r.code != 2 || !strings.Contains(r.stderr, "devcache binary") {
		t.Errorf("Compose probe without devcache: %v, want exit 2 (an error, not a miss)", r)
	}

	// A symlink to docker-devcache finds devcache beside its target.
	real, _ := binaries(t)
	link := filepath.Join(t.TempDir(), stack.PluginBinary)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, link, "plan", "--help"); r.code != 0 || !strings.Contains(r.stdout, "devcache plan") {
		t.Errorf("through a symlink: %v", r)
	}
}

func TestPluginArgs(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		viaDocker bool
		rest      []string
		configDir string
	}{
		{[]string{"probe", "-q"}, false, []string{"probe", "-q"}, ""},
		{[]string{"devcache", "probe"}, false, []string{"probe"}, ""},
		{[]string{"devcache", "probe"}, true, []string{"probe"}, ""},
		{[]string{"--config", "/c", "devcache", "probe"}, true, []string{"probe"}, "/c"},
		{[]string{"--config=/c", "-D", "devcache", "version"}, true, []string{"version"}, "/c"},
		{[]string{"--context", "devcache", "-H", "devcache", "-Dc", "devcache", "-l=debug", "--tls", "devcache", "plan"}, true, []string{"plan"}, ""},
	} {
		rest, dir := pluginArgs(tc.args, tc.viaDocker)
		if strings.Join(rest, " ") != strings.Join(tc.rest, " ") || dir != tc.configDir {
			t.Errorf("pluginArgs(%q, %v) = %q, %q; want %q, %q", tc.args, tc.viaDocker, rest, dir, tc.rest, tc.configDir)
		}
	}
}
