package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/resolver"
)

// planOptions are the flags of `docker devcache plan`.
type planOptions struct {
	resolve cmdline.ResolveFlags
	reg     cmdline.RegistryFlags
}

// newPlanCommand is `docker devcache plan`: resolve the workspace's config
// and print its Plans (install order, option env, digests, users, label) and
// key. It only reads: registries and tarball URLs are queried, nothing is
// built or written (not even the lockfile).
func newPlanCommand(opts *rootOptions) *cobra.Command {
	var po planOptions
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print the resolved build plan of the dev container config",
		Long: `Resolve the workspace's devcontainer.json — base image digest, features in
install order with pinned sources, option env files, users and the
devcontainer.metadata label — and print the resulting Plan and its cache key.
The same Plan always prints the same bytes.

The key is the one probe looks up and push stores under the same flags. With
several --platform values there is one Plan per platform (sorted, duplicates
dropped) and one key over all of them: the JSON then has "plans" (an array)
instead of "plan".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd, opts, &po)
		},
	}
	cmdline.AddResolveFlags(cmd.Flags(), &po.resolve, &po.reg)
	return cmd
}

func runPlan(cmd *cobra.Command, opts *rootOptions, po *planOptions) error {
	if err := cmdline.CheckFormat(opts.Format); err != nil {
		return err
	}
	ro, err := po.resolve.Options(opts.Root, &po.reg)
	if err != nil {
		return err
	}
	ctx, cancel := po.reg.Context(cmd)
	defer cancel()
	resolved, err := resolver.Plans(ctx, ro)
	if err != nil {
		return err
	}
	return printPlans(cmd.OutOrStdout(), opts.Format, resolved.Key, resolved.Plans)
}

// printPlans writes the key and the Plans as JSON ({"key": …, "plan": …}
// for one Plan, {"key": …, "plans": […]} for several) or as text.
func printPlans(w io.Writer, format, key string, plans []*plan.Plan) error {
	if format == "json" {
		raws := make([]json.RawMessage, len(plans))
		for i, p := range plans {
			raws[i] = p.JSON()
		}
		out := struct {
			Key   string            `json:"key"`
			Plan  json.RawMessage   `json:"plan,omitempty"`
			Plans []json.RawMessage `json:"plans,omitempty"`
		}{Key: key}
		if len(raws) == 1 {
			out.Plan = raws[0]
		} else {
			out.Plans = raws
		}
		return cmdline.WriteJSON(w, out)
	}
	if len(plans) == 1 {
		return writePlanText(w, "key", plans[0])
	}
	if _, err := fmt.Fprintf(w, "key:       %s\n", key); err != nil {
		return err
	}
	for _, p := range plans {
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
		if err := writePlanText(w, "plan key", p); err != nil {
			return err
		}
	}
	return nil
}

// printPlan writes one Plan and its key, as printPlans does.
func printPlan(w io.Writer, format string, p *plan.Plan) error {
	return printPlans(w, format, p.Key(), []*plan.Plan{p})
}

// writePlanText writes p in text, its key labelled keyLabel.
func writePlanText(w io.Writer, keyLabel string, p *plan.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %s\n", keyLabel+":", p.Key())
	fmt.Fprintf(&b, "config:    %s\n", p.ConfigFile)
	fmt.Fprintf(&b, "platform:  %s\n", p.Platform)
	if img := p.Base.Image; img != nil {
		fmt.Fprintf(&b, "base:      %s@%s\n", img.Ref, img.ManifestDigest)
	}
	if df := p.Base.Dockerfile; df != nil {
		fmt.Fprintf(&b, "dockerfile: %s (context %s)\n", df.Path, df.Context)
	}
	fmt.Fprintf(&b, "user:      %s\n", p.ImageUser)
	if p.Users != nil {
		fmt.Fprintf(&b, "features for: _CONTAINER_USER=%s _REMOTE_USER=%s\n", p.Users.ContainerUser, p.Users.RemoteUser)
	}
	for _, f := range p.Features {
		fmt.Fprintf(&b, "%d. %s  %s\n", f.Index+1, f.ConsecutiveID, f.UserFeatureID)
		switch {
		case f.Source.ManifestDigest != "":
			fmt.Fprintf(&b, "     %s@%s (layer %s)\n", f.Source.Repository, f.Source.ManifestDigest, f.Source.LayerDigest)
		case f.Source.URL != "":
			fmt.Fprintf(&b, "     %s (%s)\n", f.Source.URL, f.Source.SHA256)
		default:
			fmt.Fprintf(&b, "     %s (%s)\n", f.Source.Path, f.Source.ContentDigest)
		}
		for _, l := range strings.Split(f.EnvFile, "\n") {
			if l != "" {
				fmt.Fprintf(&b, "     %s\n", l)
			}
		}
	}
	if p.MetadataLabel != "" {
		fmt.Fprintf(&b, "label:     %s\n", p.MetadataLabel)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
