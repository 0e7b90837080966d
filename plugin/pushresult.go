package plugin

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

// finishPush adds the --tags and reports the entry.
func finishPush(cmd *cobra.Command, root *rootOptions, opts *pushOptions, reg *registry, repo name.Repository, desc *remote.Descriptor, tags []name.Tag, res *pushResult) error {
	if err := addTags(cmd.Context(), reg, repo, desc, tags); err != nil {
		return err
	}
	res.Digest = desc.Digest.String()
	res.Ref = repo.Digest(res.Digest).String()
	for _, t := range tags {
		res.Tags = append(res.Tags, t.String())
	}
	if err := writePushGitHubOutput(res); err != nil {
		return err
	}
	if opts.metadataFile != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFileAtomic(opts.metadataFile, append(b, '\n')); err != nil {
			return errors.Wrap(err, "--metadata-file")
		}
	}
	out := cmd.OutOrStdout()
	switch root.format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	case "text", "":
	default:
		return fmt.Errorf("unknown --format %q (text or json)", root.format)
	}
	if res.Cached {
		saved := "build time not recorded"
		if res.BuildSeconds > 0 {
			saved = savedTime(time.Duration(res.BuildSeconds*float64(time.Second))) + " build time"
		}
		_, err := fmt.Fprintf(out, "⚡ Using pre-built dev container %s (saved %s)\n", res.Ref, saved)
		return err
	}
	_, err := fmt.Fprintln(out, res.Ref)
	return err
}

// writePushGitHubOutput appends hit= (true when nothing was built),
// cached-image= (the entry, <repo>@sha256:…) and key-tag= to the file named
// by $GITHUB_OUTPUT, when set: the outputs probe writes, so that a workflow
// can use either.
func writePushGitHubOutput(res *pushResult) error {
	return appendGitHubOutput(res.Cached, res.Ref, res.KeyTag)
}
