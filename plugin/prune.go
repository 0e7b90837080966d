package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
)

// pruneOptions are the flags of `docker devcache prune`.
type pruneOptions struct {
	cacheRepo string
	olderThan time.Duration
	keep      int
	dryRun    bool
	reg       cmdline.RegistryFlags
}

// prunedEntry is one entry in prune's report.
type prunedEntry struct {
	Ref     string    `json:"ref"`
	Digest  string    `json:"digest"`
	Scope   string    `json:"scope"`
	Created time.Time `json:"created,omitzero"`
}

// prunedLayerCache is a deleted key's layer cache (cache-dc-<key>) in
// prune's report.
type prunedLayerCache struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	// SharedWith is a kept tag naming the same manifest: only the tag goes.
	SharedWith string `json:"sharedWith,omitempty"`
	// Deleted says the tag is gone (in a dry run: that prune tries);
	// false when the registry deletes a shared manifest's tags only with
	// the manifest, so the tag stays.
	Deleted bool `json:"deleted"`
}

// pruneReport is prune's JSON output.
type pruneReport struct {
	DryRun      bool               `json:"dryRun"`
	Deleted     []prunedEntry      `json:"deleted"`
	Kept        []prunedEntry      `json:"kept"`
	LayerCaches []prunedLayerCache `json:"layerCaches"`
}

// newPruneCommand is `docker devcache prune`.
func newPruneCommand(root *rootOptions) *cobra.Command {
	var o pruneOptions
	cmd := &cobra.Command{
		Use:   "prune --cache-repo REPO --older-than DUR [--keep N] [--dry-run]",
		Short: "Delete expired cache entries",
		Long: `Delete the cache entries (pointer tags dc-<key> and generation tags
dc-<key>-<gen>) of a cache repository that are older than --older-than, by
their manifest digest. Within each cache scope (the config's path, or the
scope push recorded) the newest --keep images are kept whatever their age
(the tags of one digest, such as a pointer and the generation it names, are
one image): by default the newest entry of every scope survives, and only
--keep 0 deletes it. Older generations that push --max-age replaced go once
expired. Once no kept entry has a key, its layer cache cache-dc-<key>
goes too: by digest, or, when a kept tag (such as the scope's layer cache
cache-<scope>) names the same manifest, only the tag, on registries that
delete a tag alone (else it stays, and prune says so). Other tags of the
repository are never touched.

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
	cmdline.DurationVar(f, &o.olderThan, "older-than", 0, "Delete entries older than this (e.g. 30d or 720h; required)")
	f.IntVar(&o.keep, "keep", 1, "Keep the newest N entries of each cache scope whatever their age (0: keep none)")
	f.BoolVar(&o.dryRun, "dry-run", false, "Only list what would be deleted")
	cmdline.AddRegistryAccessFlags(f, &o.reg)
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
	if err := cmdline.CheckFormat(root.Format); err != nil {
		return err
	}
	repo, err := cmdline.CacheRepository(o.cacheRepo)
	if err != nil {
		return err
	}
	reg, err := o.reg.Client(root.Credentials())
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.Context(cmd)
	defer cancel()
	entries, err := cache.ListEntries(ctx, reg, repo)
	if err != nil {
		return err
	}
	del, keep := cache.SelectExpired(entries, time.Now(), o.olderThan, o.keep)
	layerCaches, err := cache.ExpiredKeyCaches(ctx, reg, repo, del, keep)
	if err != nil {
		return err
	}
	rep := &pruneReport{DryRun: o.dryRun, Deleted: []prunedEntry{}, Kept: []prunedEntry{}, LayerCaches: []prunedLayerCache{}}
	for _, e := range keep {
		rep.Kept = append(rep.Kept, reportEntry(repo, e))
	}
	out := cmd.OutOrStdout()
	if err := deleteEntries(ctx, out, root.Format, reg, repo, del, rep); err != nil {
		return err
	}
	if err := deleteLayerCaches(ctx, out, root.Format, reg, repo, layerCaches, rep); err != nil {
		return err
	}
	if root.Format == "json" {
		return cmdline.WriteJSON(out, rep)
	}
	if len(del) == 0 {
		fmt.Fprintf(out, "nothing to prune in %s (%d entries kept)\n", repo, len(keep))
	}
	return nil
}

// deleteEntries deletes del (unless a dry run), reporting each in rep and,
// in text format, on out.
func deleteEntries(ctx context.Context, out io.Writer, format string, reg *registry.Client, repo name.Repository, del []*cache.Entry, rep *pruneReport) error {
	done := map[string]bool{}
	for _, e := range del {
		pe := reportEntry(repo, e)
		if !rep.DryRun {
			if err := cache.DeleteEntry(ctx, reg, repo, e, done); err != nil {
				return deleteError(repo, pe, err, rep.Deleted)
			}
		}
		rep.Deleted = append(rep.Deleted, pe)
		if format != "json" {
			verb := "deleted"
			if rep.DryRun {
				verb = "would delete"
			}
			fmt.Fprintf(out, "%s %s (%s, scope %s, created %s)\n", verb, pe.Ref, pe.Digest, pe.Scope, pe.Created.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// deleteLayerCaches deletes the layer caches of the deleted keys (unless
// a dry run), reporting each in rep and, in text format, on out.
func deleteLayerCaches(ctx context.Context, out io.Writer, format string, reg *registry.Client, repo name.Repository, kcs []cache.KeyCache, rep *pruneReport) error {
	done := map[string]bool{}
	for _, kc := range kcs {
		pl := prunedLayerCache{Ref: repo.Tag(kc.Tag).String(), Digest: kc.Digest.String(), Deleted: true}
		if kc.SharedWith != "" {
			pl.SharedWith = repo.Tag(kc.SharedWith).String()
		}
		if !rep.DryRun {
			var err error
			if pl.Deleted, err = cache.DeleteKeyCache(ctx, reg, repo, kc, done); err != nil {
				return deleteError(repo, prunedEntry{Ref: pl.Ref, Digest: pl.Digest}, err, rep.Deleted)
			}
		}
		rep.LayerCaches = append(rep.LayerCaches, pl)
		if format != "json" {
			fmt.Fprintln(out, layerCacheLine(pl, rep.DryRun))
		}
	}
	return nil
}

// layerCacheLine is prune's text line for a key's layer cache.
func layerCacheLine(pl prunedLayerCache, dryRun bool) string {
	verb := "deleted"
	if dryRun {
		verb = "would delete"
	}
	switch {
	case pl.SharedWith == "":
		return fmt.Sprintf("%s layer cache %s (%s)", verb, pl.Ref, pl.Digest)
	case dryRun:
		return fmt.Sprintf("would delete tag %s (%s; the manifest stays for %s; the tag too where the registry deletes tags only with their manifest)", pl.Ref, pl.Digest, pl.SharedWith)
	case pl.Deleted:
		return fmt.Sprintf("deleted tag %s (%s; the manifest stays for %s)", pl.Ref, pl.Digest, pl.SharedWith)
	}
	return fmt.Sprintf("kept layer cache %s (%s): %s names the same manifest and the registry deletes tags only with their manifest", pl.Ref, pl.Digest, pl.SharedWith)
}

func reportEntry(repo name.Repository, e *cache.Entry) prunedEntry {
	return prunedEntry{Ref: repo.Tag(e.Tag).String(), Digest: e.Digest.String(), Scope: e.Scope, Created: e.Created}
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
