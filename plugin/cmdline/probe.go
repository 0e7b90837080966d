package cmdline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/devcache/devcache/plugin/probe"
)

// Exit codes of probe.
const (
	ExitHit   = 0
	ExitMiss  = 1
	ExitError = 2
)

// probeOptions are the flags of `docker devcache probe`.
type probeOptions struct {
	cacheRepo string
	scope     string
	maxAge    time.Duration
	explain   bool
	resolve   ResolveFlags
	reg       RegistryFlags
}

// ProbeResult is what probe reports (the JSON of --format json).
type ProbeResult = probe.Result

// newProbeCommand is `docker devcache probe`.
func newProbeCommand(root *Root) *cobra.Command {
	var o probeOptions
	cmd := &cobra.Command{
		Use:   "probe --cache-repo REPO",
		Short: "Tell whether the dev container image is already cached, without building",
		Long: `Compute the workspace's Plan and cache key, then look for <cache-repo>:dc-<key>
with one manifest HEAD (a single request where the registry allows anonymous
reads; credentials follow its challenge). Nothing is built, pulled or written. With a lockfile
and a digest-pinned base image the Plan needs no registry request at all
(feature payloads and pinned images are read from the local resolve cache once
fetched). An entry pushed for several platforms is also found for each
platform of its set alone (push tags it with each platform's key).

Exit codes:
  0  hit: prints DEVCACHE_CACHED_IMAGE=<repo>@sha256:…
  1  miss: the reason is printed on stderr
  2  error (bad config, authentication, registry or network failure, timeout):
     an error is never reported as a miss

When $GITHUB_OUTPUT is set, hit=, cached-image= and key-tag= are appended to it.`,
		Example: `  # In CI: use the cached image or build it
  if out=$(docker devcache probe --cache-repo ghcr.io/acme/devcache); then
    echo "$out" >> "$GITHUB_ENV"
  elif [ $? -eq 1 ]; then
    docker devcache push --cache-repo ghcr.io/acme/devcache
  else
    exit 2
  fi

  # Why is it a miss? Compare with the newest entry of this config
  docker devcache probe --cache-repo registry.example.com/team/devcache --explain

  # Rebuild weekly: entries older than 7 days are misses, which
  # "docker devcache push --max-age 7d" then rebuilds
  docker devcache probe --cache-repo registry.example.com/team/devcache --max-age 7d --format json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return probeError(fmt.Errorf("probe takes no arguments, got %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runProbe(cmd, root, &o)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return probeError(err) })
	f := cmd.Flags()
	f.StringVar(&o.cacheRepo, "cache-repo", "", "Repository of the cache entries (e.g. ghcr.io/acme/devcache)")
	f.StringVar(&o.scope, "cache-scope", "", "Cache scope for --explain (default: the config's path in the workspace)")
	DurationVar(f, &o.maxAge, "max-age", 0, "Entries older than this are misses (e.g. 7d, 1d12h or 36h; 0: any age)")
	f.BoolVar(&o.explain, "explain", false, "On a miss, list the Plan inputs that differ from the newest entry of the same scope")
	AddResolveFlags(f, &o.resolve, &o.reg)
	return cmd
}

// probeError makes err exit with code 2.
func probeError(err error) error {
	return StatusError{Cause: err, Status: "error: " + err.Error(), StatusCode: ExitError}
}

func runProbe(cmd *cobra.Command, root *Root, o *probeOptions) error {
	ctx, cancel := o.reg.Context(cmd)
	defer cancel()
	res, err := runProbeOnce(ctx, root, o)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (%v; raise --timeout)", err, ctx.Err())
		} else if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (timed out after %s; raise --timeout)", err, o.reg.Timeout)
		}
		return probeError(err)
	}
	if err := writeGitHubOutput(res); err != nil {
		return probeError(err)
	}
	if err := printProbe(cmd.OutOrStdout(), root.Format, res); err != nil {
		return probeError(err)
	}
	if !res.Hit {
		return StatusError{Status: "miss: " + res.Reason, StatusCode: ExitMiss}
	}
	return nil
}

// runProbeOnce turns the flags into a probe and runs it; an error is
// never a miss.
func runProbeOnce(ctx context.Context, root *Root, o *probeOptions) (*ProbeResult, error) {
	if err := CheckFormat(root.Format); err != nil {
		return nil, err
	}
	repo, err := CacheRepository(o.cacheRepo)
	if err != nil {
		return nil, err
	}
	ro, err := o.resolve.Options(root, &o.reg)
	if err != nil {
		return nil, err
	}
	return probe.Probe(ctx, probe.Options{Repo: repo, Resolve: ro, MaxAge: o.maxAge, MaxAgeName: "--max-age", Explain: o.explain, Scope: o.scope})
}

// printProbe writes the result: on a hit the DEVCACHE_CACHED_IMAGE= line
// (text) or the JSON object; a miss's reason goes to stderr via the exit.
func printProbe(w io.Writer, format string, res *ProbeResult) error {
	if format == "json" {
		return WriteJSON(w, res)
	}
	if res.Hit {
		_, err := fmt.Fprintf(w, "DEVCACHE_CACHED_IMAGE=%s\n", res.Image)
		return err
	}
	if res.Explain != nil {
		_, err := io.WriteString(w, res.Explain.Text())
		return err
	}
	return nil
}

// writeGitHubOutput appends hit=, cached-image= and key-tag= to the file
// named by $GITHUB_OUTPUT, when set.
func writeGitHubOutput(res *ProbeResult) error {
	return AppendGitHubOutput(res.Hit, res.Image, res.Ref)
}
