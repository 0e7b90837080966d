package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker/cli/cli"
	"github.com/spf13/cobra"
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
	Explain *explanation `json:"explain,omitempty"`
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
fetched).

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

  # Rebuild weekly: entries older than 7 days are misses
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
	if root.format != "text" && root.format != "json" && root.format != "" {
		return nil, fmt.Errorf("unknown --format %q (text or json)", root.format)
	}
	repo, err := cacheRepository(o.cacheRepo)
	if err != nil {
		return nil, err
	}
	ro, err := o.resolve.options(root, &o.reg)
	if err != nil {
		return nil, err
	}
	reg := ro.Registry
	resolved, err := resolvePlans(ctx, ro)
	if err != nil {
		return nil, err
	}
	plans := resolved.Plans
	tag := TagOf(resolved.Key)
	ref := repo.Tag(tag)
	res := &probeResult{Ref: ref.String(), Key: resolved.Key}
	digest, err := reg.head(ctx, ref)
	switch {
	case isNotFound(err):
		res.Reason = fmt.Sprintf("no cache entry %s", ref)
	case err != nil:
		return nil, fmt.Errorf("looking up %s: %w", ref, err)
	default:
		res.Hit = true
		res.Image = repo.Digest(digest.String()).String()
	}
	if res.Hit && o.maxAge > 0 {
		e, err := reg.readEntry(ctx, repo, tag)
		if err != nil {
			return nil, fmt.Errorf("reading the age of %s: %w", ref, err)
		}
		res.Created = e.Created
		if e.Created.IsZero() {
			return nil, fmt.Errorf("%s records no creation time (no %s annotation, no config created); cannot apply --max-age", ref, AnnotationCreated)
		}
		if age := time.Since(e.Created); age > o.maxAge {
			res.Hit, res.Image = false, ""
			res.Reason = fmt.Sprintf("cache entry %s was created %s (%s ago), older than --max-age %s", ref, e.Created.UTC().Format(time.RFC3339), age.Round(time.Second), o.maxAge)
		}
	}
	if !res.Hit && o.explain {
		scope := o.scope
		if scope == "" {
			scope = plans[0].ConfigFile
		}
		ex, err := explainMiss(ctx, reg, repo, tag, scope, plans)
		if err != nil {
			// The miss stands; the explanation is extra.
			ex = &explanation{Scope: scope, Error: err.Error()}
		}
		res.Explain = ex
	}
	return res, nil
}

// printProbe writes the result: on a hit the DEVCACHE_CACHED_IMAGE= line
// (text) or the JSON object; a miss's reason goes to stderr via the exit.
func printProbe(w io.Writer, format string, res *probeResult) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
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

// appendGitHubOutput writes the step outputs probe and push share to the
// file named by $GITHUB_OUTPUT, when set: hit, cached-image (the entry,
// <repo>@sha256:…) and key-tag (from keyRef, <repo>:<tag>).
func appendGitHubOutput(hit bool, image, keyRef string) error {
	path := os.Getenv("GITHUB_OUTPUT")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("$GITHUB_OUTPUT: %w", err)
	}
	tag := keyRef[strings.LastIndex(keyRef, ":")+1:]
	_, err = fmt.Fprintf(f, "hit=%t\ncached-image=%s\nkey-tag=%s\n", hit, image, tag)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("$GITHUB_OUTPUT: %w", err)
	}
	return nil
}
