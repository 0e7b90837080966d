package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/cli/cli"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/resolver"
)

// Exit codes of probe.
const (
	exitHit   = 0
	exitMiss  = 1
	exitError = 2
)

// probeOptions are the flags of `docker devcache probe`.
type probeOptions struct {
	cacheRepo string
	scope     string
	maxAge    time.Duration
	explain   bool
	resolve   resolveFlags
	reg       registryOptions
}

// probeResult is what probe reports (the JSON of --format json).
type probeResult struct {
	Hit bool `json:"hit"`
	// Image is <repo>@sha256:… on a hit.
	Image   string    `json:"image,omitempty"`
	Ref     string    `json:"ref"`
	Key     string    `json:"key"`
	Created time.Time `json:"created,omitzero"`
	// Reason says why it is a miss.
	Reason string `json:"reason,omitempty"`
	// Explain lists the differences from the newest entry of the scope.
	Explain *cache.Explanation `json:"explain,omitempty"`
}

// newProbeCommand is `docker devcache probe`.
func newProbeCommand(root *rootOptions) *cobra.Command {
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
	durationVar(f, &o.maxAge, "max-age", 0, "Entries older than this are misses (e.g. 7d, 1d12h or 36h; 0: any age)")
	f.BoolVar(&o.explain, "explain", false, "On a miss, list the Plan inputs that differ from the newest entry of the same scope")
	addResolveFlags(f, &o.resolve, &o.reg)
	return cmd
}

func init() { registerCommand(newProbeCommand) }

// probeError makes err exit with code 2.
func probeError(err error) error {
	return cli.StatusError{Cause: err, Status: "error: " + err.Error(), StatusCode: exitError}
}

func runProbe(cmd *cobra.Command, root *rootOptions, o *probeOptions) error {
	ctx, cancel := o.reg.context(cmd)
	defer cancel()
	res, err := probe(ctx, root, o)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (%v; raise --timeout)", err, ctx.Err())
		} else if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (timed out after %s; raise --timeout)", err, o.reg.timeout)
		}
		return probeError(err)
	}
	if err := writeGitHubOutput(res); err != nil {
		return probeError(err)
	}
	if err := printProbe(cmd.OutOrStdout(), root.format, res); err != nil {
		return probeError(err)
	}
	if !res.Hit {
		return cli.StatusError{Status: "miss: " + res.Reason, StatusCode: exitMiss}
	}
	return nil
}

// probe computes the key and looks the entry up; an error is never a miss.
func probe(ctx context.Context, root *rootOptions, o *probeOptions) (*probeResult, error) {
	if err := checkFormat(root.format); err != nil {
		return nil, err
	}
	repo, err := cacheRepository(o.cacheRepo)
	if err != nil {
		return nil, err
	}
	ro, err := o.resolve.options(root, &o.reg)
	if err != nil {
		return nil, err
	}
	resolved, err := resolver.Plans(ctx, ro)
	if err != nil {
		return nil, err
	}
	tag := cache.TagOf(resolved.Key)
	res := &probeResult{Ref: repo.Tag(tag).String(), Key: resolved.Key}
	if err := lookUp(ctx, ro.Registry, repo, tag, res); err != nil {
		return nil, err
	}
	if res.Hit && o.maxAge > 0 {
		if err := checkAge(ctx, ro.Registry, repo, tag, o.maxAge, res); err != nil {
			return nil, err
		}
	}
	if !res.Hit && o.explain {
		scope := o.scope
		if scope == "" {
			scope = resolved.Plans[0].ConfigFile
		}
		ex, err := cache.Explain(ctx, ro.Registry, repo, tag, scope, resolved.Plans)
		if err != nil {
			// The miss stands; the explanation is extra.
			ex = &cache.Explanation{Scope: scope, Error: err.Error()}
		}
		res.Explain = ex
	}
	return res, nil
}

// lookUp HEADs the key tag: a hit, a miss (404) or an error.
func lookUp(ctx context.Context, reg *registry.Client, repo name.Repository, tag string, res *probeResult) error {
	ref := repo.Tag(tag)
	digest, err := reg.Head(ctx, ref)
	switch {
	case registry.IsNotFound(err):
		res.Reason = fmt.Sprintf("no cache entry %s", ref)
	case err != nil:
		return fmt.Errorf("looking up %s: %w", ref, err)
	default:
		res.Hit = true
		res.Image = repo.Digest(digest.String()).String()
	}
	return nil
}

// checkAge turns a hit older than --max-age into a miss.
func checkAge(ctx context.Context, reg *registry.Client, repo name.Repository, tag string, maxAge time.Duration, res *probeResult) error {
	e, stale, err := cache.Stale(ctx, reg, repo, tag, maxAge, time.Now())
	if err != nil {
		return err
	}
	res.Created = e.Created
	if stale != "" {
		res.Hit, res.Image = false, ""
		res.Reason = stale
	}
	return nil
}

// printProbe writes the result: on a hit the DEVCACHE_CACHED_IMAGE= line
// (text) or the JSON object; a miss's reason goes to stderr via the exit.
func printProbe(w io.Writer, format string, res *probeResult) error {
	if format == "json" {
		return writeJSON(w, res)
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
func writeGitHubOutput(res *probeResult) error {
	return appendGitHubOutput(res.Hit, res.Image, res.Ref)
}
