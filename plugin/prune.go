package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"
)

// pruneOptions are the flags of `docker devcache prune`.
type pruneOptions struct {
	cacheRepo string
	olderThan time.Duration
	keep      int
	dryRun    bool
	reg       registryOptions
}

// prunedEntry is one entry in prune's report.
type prunedEntry struct {
	Ref     string    `json:"ref"`
	Digest  string    `json:"digest"`
	Scope   string    `json:"scope"`
	Created time.Time `json:"created,omitzero"`
}

// pruneReport is prune's JSON output.
type pruneReport struct {
	DryRun  bool          `json:"dryRun"`
	Deleted []prunedEntry `json:"deleted"`
	Kept    []prunedEntry `json:"kept"`
}

// newPruneCommand is `docker devcache prune`.
func newPruneCommand(root *rootOptions) *cobra.Command {
	var o pruneOptions
	cmd := &cobra.Command{
		Use:   "prune --cache-repo REPO --older-than DUR [--keep N] [--dry-run]",
		Short: "Delete expired cache entries",
		Long: `Delete the cache entries (tags dc-<key>) of a cache repository that are older
than --older-than, by their manifest digest. Within each cache scope (the
config's path, or the scope push recorded) the newest --keep entries are kept
whatever their age: by default the newest entry of every scope survives, and
only --keep 0 deletes it. Other tags of the repository are never touched.

An entry's age is its manifest's org.opencontainers.image.created annotation,
else that of the build-info artifact push records beside it, else its image
config's created time; an entry without any is kept. The entry's build-info
artifacts are deleted with it.

The registry must support DELETE (distribution: REGISTRY_STORAGE_DELETE_ENABLED
=true; many hosted registries use their own retention policies instead) and
the credentials must allow it. Deleted manifests' blobs are reclaimed by the
registry's garbage collection.`,
		Example: `  # What would go?
  docker devcache prune --cache-repo registry.example.com/team/devcache --older-than 720h --dry-run

  # Delete entries older than 30 days, keeping the 2 newest of each config
  docker devcache prune --cache-repo registry.example.com/team/devcache --older-than 720h --keep 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrune(cmd, root, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cacheRepo, "cache-repo", "", "Repository of the cache entries")
	durationVar(f, &o.olderThan, "older-than", 0, "Delete entries older than this (e.g. 30d or 720h; required)")
	f.IntVar(&o.keep, "keep", 1, "Keep the newest N entries of each cache scope whatever their age (0: keep none)")
	f.BoolVar(&o.dryRun, "dry-run", false, "Only list what would be deleted")
	addRegistryAccessFlags(f, &o.reg)
	return cmd
}

func init() { registerCommand(newPruneCommand) }

func runPrune(cmd *cobra.Command, root *rootOptions, o *pruneOptions) error {
	if o.olderThan <= 0 {
		return fmt.Errorf("--older-than is required and must be positive (e.g. --older-than 720h)")
	}
	if o.keep < 0 {
		return fmt.Errorf("--keep %d: must be 0 or more", o.keep)
	}
	if root.format != "text" && root.format != "json" && root.format != "" {
		return fmt.Errorf("unknown --format %q (text or json)", root.format)
	}
	repo, err := cacheRepository(o.cacheRepo)
	if err != nil {
		return err
	}
	reg, err := o.reg.newRegistry(root.credentials())
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.context(cmd)
	defer cancel()
	entries, err := reg.listEntries(ctx, repo)
	if err != nil {
		return err
	}
	del, keep := selectExpired(entries, time.Now(), o.olderThan, o.keep)
	rep := &pruneReport{DryRun: o.dryRun, Deleted: []prunedEntry{}, Kept: []prunedEntry{}}
	for _, e := range keep {
		rep.Kept = append(rep.Kept, reportEntry(repo, e))
	}
	out := cmd.OutOrStdout()
	done := map[string]bool{}
	for _, e := range del {
		pe := reportEntry(repo, e)
		if !o.dryRun {
			if err := deleteEntry(ctx, reg, repo, e, done); err != nil {
				return deleteError(repo, pe, err, rep.Deleted)
			}
		}
		rep.Deleted = append(rep.Deleted, pe)
		if root.format != "json" {
			verb := "deleted"
			if o.dryRun {
				verb = "would delete"
			}
			fmt.Fprintf(out, "%s %s (%s, scope %s, created %s)\n", verb, pe.Ref, pe.Digest, pe.Scope, pe.Created.UTC().Format(time.RFC3339))
		}
	}
	if root.format == "json" {
		return writeJSON(out, rep)
	}
	if len(del) == 0 {
		fmt.Fprintf(out, "nothing to prune in %s (%d entries kept)\n", repo, len(keep))
	}
	return nil
}

// selectExpired splits entries (newest first) into those to delete and
// those to keep: per scope the newest keep survive, then anything older
// than olderThan goes. Entries of unknown age, and entries sharing a
// digest with a kept one, are kept.
func selectExpired(entries []*cacheEntry, now time.Time, olderThan time.Duration, keep int) (del, kept []*cacheEntry) {
	seen := map[string]int{}
	keptDigest := map[string]bool{}
	var candidates []*cacheEntry
	for _, e := range entries {
		n := seen[e.Scope]
		seen[e.Scope] = n + 1
		if n < keep || e.Created.IsZero() || now.Sub(e.Created) <= olderThan {
			kept = append(kept, e)
			keptDigest[e.Digest.String()] = true
			continue
		}
		candidates = append(candidates, e)
	}
	for _, e := range candidates {
		if keptDigest[e.Digest.String()] {
			kept = append(kept, e)
			continue
		}
		del = append(del, e)
	}
	return del, kept
}

func reportEntry(repo name.Repository, e *cacheEntry) prunedEntry {
	return prunedEntry{Ref: repo.Tag(e.Tag).String(), Digest: e.Digest.String(), Scope: e.Scope, Created: e.Created}
}

// deleteEntry deletes an entry's manifest by digest, which on
// distribution removes every tag pointing to it; on registries that keep
// the tag (tags as separate objects), the tag is then deleted too.
func deleteEntry(ctx context.Context, reg *registry, repo name.Repository, e *cacheEntry, done map[string]bool) error {
	d := e.Digest.String()
	if !done[d] {
		if err := deleteReferrers(ctx, reg, repo, e.Digest); err != nil {
			return err
		}
		if err := remote.Delete(repo.Digest(d), reg.options(ctx)...); err != nil && !isNotFound(err) {
			return err
		}
		done[d] = true
	}
	if _, err := remote.Head(repo.Tag(e.Tag), reg.options(ctx)...); err == nil {
		if err := remote.Delete(repo.Tag(e.Tag), reg.options(ctx)...); err != nil && !isNotFound(err) {
			return err
		}
	} else if !isNotFound(err) {
		return err
	}
	return nil
}

// deleteReferrers deletes the artifacts whose subject is digest (push's
// build info) and, on registries without the referrers API, the
// sha256-<hex> fallback tag listing them.
func deleteReferrers(ctx context.Context, reg *registry, repo name.Repository, digest v1.Hash) error {
	idx, err := remote.Referrers(repo.Digest(digest.String()), reg.options(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("listing the referrers of %s@%s: %w", repo, digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, m := range im.Manifests {
		if err := remote.Delete(repo.Digest(m.Digest.String()), reg.options(ctx)...); err != nil && !isNotFound(err) {
			return err
		}
	}
	fallback := repo.Tag(digest.Algorithm + "-" + digest.Hex)
	desc, err := remote.Head(fallback, reg.options(ctx)...)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := remote.Delete(repo.Digest(desc.Digest.String()), reg.options(ctx)...); err != nil && !isNotFound(err) {
		return err
	}
	if _, err := remote.Head(fallback, reg.options(ctx)...); err == nil {
		if err := remote.Delete(fallback, reg.options(ctx)...); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// deleteError explains a refused DELETE.
func deleteError(repo name.Repository, e prunedEntry, err error, deleted []prunedEntry) error {
	what := fmt.Sprintf("deleting %s (%s) after %d deletions", e.Ref, e.Digest, len(deleted))
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return fmt.Errorf("%s: the registry %s does not allow deleting manifests (%d): enable deletes (distribution: REGISTRY_STORAGE_DELETE_ENABLED=true) or use the registry's own retention policy: %w", what, repo.RegistryStr(), te.StatusCode, err)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s: the credentials for %s may not delete (%d); prune needs write access to the cache repository: %w", what, repo.RegistryStr(), te.StatusCode, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
