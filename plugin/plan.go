package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	dcregistry "github.com/devcache/devcache/plugin/registry"
)

// planOptions are the flags of `docker devcache plan`.
type planOptions struct {
	frozenLockfile     bool
	noLockfile         bool
	skipCustomizations bool
}

// newPlanCommand is `docker devcache plan`: resolve the workspace's config
// and print its Plan (install order, option env, digests, users, label) and
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
The same Plan always prints the same bytes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd, opts, po)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&po.frozenLockfile, "frozen-lockfile", false, "Fail when devcontainer-lock.json is missing or would change")
	f.BoolVar(&po.noLockfile, "no-lockfile", false, "Ignore devcontainer-lock.json")
	f.BoolVar(&po.skipCustomizations, "skip-persisting-customizations-from-features", false, "Leave feature customizations out of the metadata label")
	return cmd
}

// newPlanResolver is the resolver of `plan` (a variable for tests).
var newPlanResolver = func(creds authn.Keychain) plan.Resolver {
	return resolve.New(resolve.Options{
		Keychain:  creds,
		Transport: dcregistry.NewChallengeGuard(remote.DefaultTransport),
		CacheDir:  resolve.DefaultCacheDir(),
	})
}

func runPlan(cmd *cobra.Command, opts *rootOptions, po planOptions) error {
	if po.frozenLockfile && po.noLockfile {
		return fmt.Errorf("--no-lockfile and --frozen-lockfile are mutually exclusive")
	}
	ws := opts.workspaceFolder
	if ws == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		ws = wd
	}
	o := plan.Options{
		ConfigPath:         opts.config,
		Resolver:           newPlanResolver(opts.credentials()),
		SkipCustomizations: po.skipCustomizations,
	}
	if len(opts.platforms) > 1 {
		return fmt.Errorf("plan takes one --platform, got %s", strings.Join(opts.platforms, ","))
	}
	if len(opts.platforms) == 1 {
		o.Platform = opts.platforms[0]
	}
	switch {
	case po.frozenLockfile:
		o.Lock = plan.LockFrozen
	case po.noLockfile:
		o.Lock = plan.LockNone
	}
	res, err := plan.ForWorkspace(cmd.Context(), ws, o)
	if err != nil {
		return err
	}
	return printPlan(cmd.OutOrStdout(), opts.format, res.Plan)
}

// printPlan writes the plan as JSON ({"key": …, "plan": …}) or as text.
func printPlan(w io.Writer, format string, p *plan.Plan) error {
	switch format {
	case "json":
		out := struct {
			Key  string          `json:"key"`
			Plan json.RawMessage `json:"plan"`
		}{p.Key(), p.JSON()}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "text", "":
		return writePlanText(w, p)
	}
	return fmt.Errorf("unknown --format %q (text or json)", format)
}

func writePlanText(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "key:       %s\n", p.Key())
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
