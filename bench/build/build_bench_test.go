package build

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// pushed reads the entry reference from `docker devcache push --format
// json`.
func pushed(b *testing.B, out string) string {
	var r struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Ref == "" {
		b.Fatalf("push output %q: %v", out, err)
	}
	return r.Ref
}

// figures are one run's measurements, in seconds (bytes for sizes).
type figures map[string]float64

func (f figures) report(b *testing.B) {
	for k, v := range f {
		b.ReportMetric(v, k)
	}
}

func secs(d time.Duration) float64 { return d.Seconds() }

// BenchmarkBuild times, per op, the reference and devcache side by side on
// one fixture (see RESULTS.md for each figure's definition), and reports
// every figure and the ratios as metrics.
func BenchmarkBuild(b *testing.B) {
	bn := get(b)
	for i := 0; i < b.N; i++ {
		nonce := fmt.Sprint(time.Now().UnixNano())
		f := figures{}
		bn.referenceRun(b, nonce, f)
		bn.devcacheRun(b, nonce, f)
		f["cold-ratio"] = f["dc-cold-s"] / f["ref-cold-s"]
		f["fromcache-ratio"] = f["dc-fromcache-s"] / f["ref-fromcache-s"]
		f["warm-ratio"] = f["dc-warm-s"] / f["ref-warm-s"]
		f["warm-load-ratio"] = f["dc-warm-load-s"] / f["ref-warm-load-s"]
		f["hit-ratio"] = f["dc-hit-s"] / f["ref-hit-s"]
		f["bytes-ratio"] = f["dc-bytes"] / f["ref-bytes"]
		f.report(b)
		var lines []string
		for _, k := range slices.Sorted(maps.Keys(f)) {
			lines = append(lines, fmt.Sprintf("%-24s %10.2f", k, f[k]))
		}
		b.Logf("run %d:\n%s", i, strings.Join(lines, "\n"))
	}
}

// referenceRun: cold build+push on an empty builder (inline cache, for the
// later --cache-from), warm rebuild after editing the git feature's
// option, the unchanged config again (what the reference does on a "hit":
// rebuild from the builder's cache and push), and an empty builder with
// --cache-from the cold image.
func (bn *bench) referenceRun(b *testing.B, nonce string, f figures) {
	img := bn.localhost + "/bench/ref-" + nonce
	ws := bn.workspace(b, "vi")
	bn.prune(b)
	f["ref-cold-s"] = secs(bn.reference(b, ws, "--image-name", img+":cold", "--push", "--cache-to", "type=inline"))
	im := imageOf(b, img+":cold")
	f["ref-bytes"], f["ref-layers"] = float64(im.bytes), float64(im.layers)

	bn.setEditor(b, ws, "nano")
	f["ref-warm-s"] = secs(bn.reference(b, ws, "--image-name", img+":warm", "--push"))
	bn.setEditor(b, ws, "ed")
	f["ref-warm-load-s"] = secs(bn.reference(b, ws, "--image-name", img+":warm-load"))
	bn.setEditor(b, ws, "vi")
	f["ref-hit-s"] = secs(bn.reference(b, ws, "--image-name", img+":hit", "--push"))

	bn.prune(b)
	f["ref-fromcache-s"] = secs(bn.reference(b, ws, "--image-name", img+":fromcache", "--push", "--cache-from", "type=registry,ref="+img+":cold"))
}

// devcacheRun: the same four figures for `docker devcache push` (its
// registry layer cache in the cache repository) and, for the empty
// builder with the registry cache, `docker devcache build --push` of the
// unchanged config (push would hit and build nothing).
func (bn *bench) devcacheRun(b *testing.B, nonce string, f figures) {
	repo := bn.localhost + "/bench/dc-" + nonce
	ws := bn.workspace(b, "vi")
	bn.prune(b)
	took, st, out := bn.devcache(b, ws, "push", "--cache-repo", repo, "--format", "json")
	f["dc-cold-s"] = secs(took)
	f["dc-cold-outside-solve-s"] = secs(took - span(st))
	f["dc-cold-export-s"] = secs(sum(st, "exporting to image"))
	f["dc-cold-export-layers-s"] = secs(sum(st, "exporting layers"))
	f["dc-cold-rewrite-s"] = secs(sum(st, "rewriting layers"))
	f["dc-cold-cache-export-s"] = secs(sum(st, "exporting cache"))
	f["dc-cold-features-s"] = secs(sum(st, "[devcontainer] install feature"))
	im := imageOf(b, pushed(b, out))
	f["dc-bytes"], f["dc-layers"] = float64(im.bytes), float64(im.layers)

	bn.setEditor(b, ws, "nano")
	took, st, _ = bn.devcache(b, ws, "push", "--cache-repo", repo, "--format", "json")
	f["dc-warm-s"] = secs(took)
	git := st["[devcontainer] install feature "+bn.features+"/git:1"]
	utils := st["[devcontainer] install feature "+bn.features+"/utils:1"]
	if git == nil || utils == nil || !git.Ran || utils.Ran {
		b.Fatalf("warm rebuild: want only the git feature's install to run; got git %+v, utils %+v", git, utils)
	}
	f["dc-warm-feature-s"] = secs(git.Took())
	f["dc-warm-over-feature-s"] = f["dc-warm-s"] - f["dc-warm-feature-s"]
	// The same edit built locally: the result left in the builder (what
	// an edit-and-retry loop waits for), then loaded into the engine (what
	// the reference's build without --push does).
	for _, c := range []struct{ editor, figure string }{{"ed", "dc-warm-build"}, {"vim", "dc-warm-load"}} {
		bn.setEditor(b, ws, c.editor)
		args, env := []string{"build"}, []string(nil)
		if c.figure == "dc-warm-load" {
			// Into the reference's engine, on the same builder.
			args = append(args, "--builder", bn.s.Builder, "--load", "-t", "bench-dc-"+nonce+":warm-load")
			for _, kv := range bn.ref.Env {
				if strings.HasPrefix(kv, "DOCKER_HOST=") {
					env = append(env, kv)
				}
			}
		}
		took, st, _ = bn.devcacheEnv(b, env, ws, args...)
		git := st["[devcontainer] install feature "+bn.features+"/git:1"]
		if git == nil || !git.Ran {
			b.Fatalf("%s: the git feature's install did not run: %+v", c.figure, git)
		}
		f[c.figure+"-s"] = secs(took)
		f[c.figure+"-over-feature-s"] = secs(took - git.Took())
	}

	bn.setEditor(b, ws, "vi")
	took, _, _ = bn.devcache(b, ws, "push", "--cache-repo", repo, "--format", "json")
	f["dc-hit-s"] = secs(took)

	// The scope's layer cache (cache-<scope>) holds the last push's solve
	// (nano's git layer); vi's layers are in its key's layer cache
	// (cache-dc-<key>), which build imports first: the cold config builds
	// from the registry without running an install, as the reference's
	// --cache-from its cold image does.
	bn.prune(b)
	took, st, _ = bn.devcache(b, ws, "build", "--cache-repo", repo, "--push", "-t", repo+":fromcache")
	f["dc-fromcache-s"] = secs(took)
	// Install steps that ran although the registry cache holds them (0
	// when the cache is used).
	ran := 0
	for n, s := range st {
		if strings.HasPrefix(n, "[devcontainer] install feature") && s.Ran {
			ran++
		}
	}
	f["dc-fromcache-installs-ran"] = float64(ran)
}

// BenchmarkColdPush times devcache's cold push alone (empty builder, fresh
// cache repository), with the export's parts. DEVCACHE_BENCH_PLUGINS=
// "name=binary,…" compares plugin builds (e.g. exporter variants), one
// sub-benchmark each, run directly rather than through docker.
func BenchmarkColdPush(b *testing.B) {
	bn := get(b)
	variants := map[string]string{"tree": ""}
	if v := os.Getenv("DEVCACHE_BENCH_PLUGINS"); v != "" {
		variants = map[string]string{}
		for _, nv := range strings.Split(v, ",") {
			n, bin, _ := strings.Cut(nv, "=")
			variants[n] = bin
		}
	}
	for _, name := range slices.Sorted(maps.Keys(variants)) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				bn.coldPush(b, variants[name])
			}
		})
	}
}

// coldPush is one cold push by bin ("" = docker devcache).
func (bn *bench) coldPush(b *testing.B, bin string) {
	repo := bn.localhost + "/bench/dccold-" + fmt.Sprint(time.Now().UnixNano())
	ws := bn.workspace(b, "vi")
	bn.prune(b)
	args := []string{"push", "--cache-repo", repo, "--format", "json"}
	var (
		took time.Duration
		st   map[string]*step
		out  string
	)
	if bin == "" {
		took, st, out = bn.devcache(b, ws, args...)
	} else {
		env := append([]string{"XDG_CACHE_HOME=" + b.TempDir()}, bn.env...)
		var errOut string
		out, errOut, took = run(b, env, ws, bin, append(args, "--progress", "rawjson")...)
		st = steps(errOut)
	}
	im := imageOf(b, pushed(b, out))
	f := figures{
		"dc-cold-s":               secs(took),
		"dc-cold-outside-solve-s": secs(took - span(st)),
		"dc-cold-export-s":        secs(sum(st, "exporting to image")),
		"dc-cold-export-layers-s": secs(sum(st, "exporting layers")),
		"dc-cold-rewrite-s":       secs(sum(st, "rewriting layers")),
		"dc-cold-cache-export-s":  secs(sum(st, "exporting cache")),
		"dc-cold-features-s":      secs(sum(st, "[devcontainer] install feature")),
		"dc-bytes":                float64(im.bytes),
	}
	f.report(b)
}
