package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/devcache/devcache/internal/stack"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/devcache/devcache/plugin"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// fixture is a workspace with a digest-pinned base image and a locked OCI
// feature, and a cache entry for it, on one registry; unpinned is the same
// config naming the base image and the feature by tag, without a
// lockfile (each probe resolves both), with an entry too.
type fixture struct {
	ws, unpinned, cacheRepo, entryTag string
}

func write(b *testing.B, p, content string, mode os.FileMode) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		b.Fatal(err)
	}
}

// runProbe runs the plugin's probe in-process and returns stdout.
func runProbe(b *testing.B, args ...string) (string, error) {
	root := plugin.NewRootCommand(nil)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"probe"}, args...))
	err := root.ExecuteContext(context.Background())
	if err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, errb.String())
	}
	return out.String(), nil
}

func runCmd(b *testing.B, args ...string) {
	root := plugin.NewRootCommand(nil)
	root.SetOut(new(bytes.Buffer))
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		b.Fatalf("%v: %v", args, err)
	}
}

// setup publishes the base and feature to host (a registry reachable over
// plain HTTP), writes the workspace and its lockfile, and pushes an entry
// at the key tag so that probe hits.
func setup(b *testing.B, host string, features *resolvetest.Registry) fixture {
	b.Helper()
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	img, err := random.Image(1024, 2)
	if err != nil {
		b.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/bench/base:1")
	if err := remote.Write(ref, img); err != nil {
		b.Fatal(err)
	}
	d, _ := img.Digest()
	ws := filepath.Join(b.TempDir(), "ws")
	src := b.TempDir()
	write(b, filepath.Join(src, "tool", "devcontainer-feature.json"), `{"id":"tool","version":"1.0.0","options":{"v":{"type":"string","default":"1"}}}`, 0o644)
	write(b, filepath.Join(src, "tool", "install.sh"), "#!/bin/sh\necho $V\n", 0o755)
	features.PublishFeature(b, filepath.Join(src, "tool"), "bench/features/tool", nil, "1")
	write(b, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"image": "`+host+`/bench/base@`+d.String()+`", "features": {"./local": {}, "`+features.Host+`/bench/features/tool:1": {"v": "2"}}}`, 0o644)
	write(b, filepath.Join(ws, ".devcontainer", "local", "devcontainer-feature.json"), `{"id":"local","version":"1.0.0"}`, 0o644)
	write(b, filepath.Join(ws, ".devcontainer", "local", "install.sh"), "#!/bin/sh\n", 0o755)
	runCmd(b, "lock", "--workspace-folder", ws)
	unpinned := filepath.Join(b.TempDir(), "ws")
	write(b, filepath.Join(unpinned, ".devcontainer", "devcontainer.json"), `{"image": "`+host+`/bench/base:1", "features": {"./local": {}, "`+features.Host+`/bench/features/tool:1": {"v": "2"}}}`, 0o644)
	write(b, filepath.Join(unpinned, ".devcontainer", "local", "devcontainer-feature.json"), `{"id":"local","version":"1.0.0"}`, 0o644)
	write(b, filepath.Join(unpinned, ".devcontainer", "local", "install.sh"), "#!/bin/sh\n", 0o755)
	return fixture{ws: ws, unpinned: unpinned, cacheRepo: host + "/bench/cache"}
}

// addEntry makes probe of ws hit: it learns the key tag from a miss and
// pushes an image there.
func (f *fixture) addEntry(b *testing.B, ws string) {
	out, _ := runProbe(b, "--workspace-folder", ws, "--cache-repo", f.cacheRepo, "--format", "json")
	var res struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Ref == "" {
		b.Fatalf("probe output %q: %v", out, err)
	}
	ref, err := name.ParseReference(res.Ref)
	if err != nil {
		b.Fatal(err)
	}
	img, _ := random.Image(512, 1)
	if err := remote.Write(ref, img); err != nil {
		b.Fatal(err)
	}
	if ws == f.ws {
		f.entryTag = ref.Identifier()
	}
	if _, err := runProbe(b, "--workspace-folder", ws, "--cache-repo", f.cacheRepo); err != nil {
		b.Fatalf("probe does not hit: %v", err)
	}
}

// benchRegistry runs the three measurements against one registry host.
// requests, when non-nil, returns (and forgets) the requests the registry
// served: reported as requests/op.
func benchRegistry(b *testing.B, host string, features *resolvetest.Registry, requests func() []string, binDir string) {
	f := setup(b, host, features)
	f.addEntry(b, f.ws)
	f.addEntry(b, f.unpinned)
	entry, _ := name.ParseReference(f.cacheRepo + ":" + f.entryTag)

	report := func(b *testing.B) {
		if requests != nil {
			b.ReportMetric(float64(len(requests()))/float64(b.N), "requests/op")
		}
	}
	b.Run("probe-pinned", func(b *testing.B) {
		if requests != nil {
			requests()
		}
		for b.Loop() {
			if _, err := runProbe(b, "--workspace-folder", f.ws, "--cache-repo", f.cacheRepo); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("head-ggcr", func(b *testing.B) {
		// What `crane digest` does: a new client, ping, then HEAD.
		if requests != nil {
			requests()
		}
		for b.Loop() {
			if _, err := remote.Head(entry); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	if binDir != "" {
		// Process level, as a shell or CI step sees it: the plugin binary
		// run directly vs `crane digest` (both: process start, ping-free or
		// ping + HEAD, exit).
		plug := pluginBinary(b)
		env := append(os.Environ(), "XDG_CACHE_HOME="+os.Getenv("XDG_CACHE_HOME"), "DOCKER_CONFIG="+os.Getenv("DOCKER_CONFIG"))
		for name, ws := range map[string]string{"probe-binary": f.ws, "probe-binary-unpinned": f.unpinned} {
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					cmd := exec.Command(plug, "probe", "--workspace-folder", ws, "--cache-repo", f.cacheRepo)
					cmd.Env = env
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("%v\n%s", err, out)
					}
				}
			})
		}
		b.Run("version-binary", func(b *testing.B) {
			// Process start alone: package init, the docker CLI's set-up,
			// the command tree.
			for b.Loop() {
				cmd := exec.Command(plug, "version")
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
		})
		if docker, err := exec.LookPath("docker"); err == nil {
			// Through the docker CLI, as users type it: docker runs the
			// plugin twice (metadata, then probe).
			plugins := filepath.Join(os.Getenv("DOCKER_CONFIG"), "cli-plugins")
			if err := os.MkdirAll(plugins, 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.Symlink(plug, filepath.Join(plugins, "docker-devcache")); err != nil && !os.IsExist(err) {
				b.Fatal(err)
			}
			// The docker CLI's own share: a plugin that is a shell script
			// answering the metadata call and nothing else.
			noop := "#!/bin/sh\n[ \"$1\" = docker-cli-plugin-metadata ] && echo '{\"SchemaVersion\":\"0.1.0\",\"Vendor\":\"bench\",\"Version\":\"1\"}'\nexit 0\n"
			write(b, filepath.Join(plugins, "docker-noop"), noop, 0o755)
			b.Run("docker-noop-plugin", func(b *testing.B) {
				for b.Loop() {
					cmd := exec.Command(docker, "noop")
					cmd.Env = env
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("%v\n%s", err, out)
					}
				}
			})
			for name, ws := range map[string]string{"probe-docker": f.ws, "probe-docker-unpinned": f.unpinned} {
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						cmd := exec.Command(docker, "devcache", "probe", "--workspace-folder", ws, "--cache-repo", f.cacheRepo)
						cmd.Env = env
						if out, err := cmd.CombinedOutput(); err != nil {
							b.Fatalf("%v\n%s", err, out)
						}
					}
				})
			}
		}
		b.Run("crane-digest", func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(filepath.Join(binDir, "crane"), "digest", entry.String())
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
		})
	}
	b.Run("head-raw", func(b *testing.B) {
		// The floor: one HTTP HEAD on a kept-alive connection.
		u := fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, entry.Context().RepositoryStr(), f.entryTag)
		c := &http.Client{}
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodHead, u, nil)
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
			resp, err := c.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("%v %v", resp, err)
			}
			resp.Body.Close()
		}
	})
}

// BenchmarkProbe: an in-process go-containerregistry registry on loopback,
// and the stack's real registry (distribution 2.8) when it can run.
func BenchmarkProbe(b *testing.B) {
	b.Run("ggcr-registry", func(b *testing.B) {
		reg := resolvetest.StartRegistry(b)
		benchRegistry(b, reg.Host, reg, reg.Requests, "")
	})
	b.Run("distribution", func(b *testing.B) {
		s := stacktest.Get(b)
		// go-containerregistry's registry publishes the feature (the
		// helper's monolithic upload is not distribution's); locked, it
		// costs no request anyway.
		benchRegistry(b, s.Registry, resolvetest.StartRegistry(b), nil, s.BinDir)
	})
}

var (
	pluginOnce sync.Once
	pluginPath string
	pluginErr  error
)

// pluginBinary builds cmd/docker-devcache once into a temporary directory.
func pluginBinary(b *testing.B) string {
	pluginOnce.Do(func() {
		dir, err := os.MkdirTemp("", "devcache-bench-")
		if err != nil {
			pluginErr = err
			return
		}
		pluginPath, pluginErr = stack.InstallPlugin(context.Background(), dir, "")
	})
	if pluginErr != nil {
		b.Fatal(pluginErr)
	}
	return pluginPath
}
