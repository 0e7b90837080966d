package cmdline

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/resolver"
)

// Root are the flags every command shares, and the command run's docker
// CLI configuration.
type Root struct {
	WorkspaceFolder string
	Config          string
	BuilderName     string
	BuildkitHost    string
	Platforms       []string
	Progress        string
	Format          string
	// DockerConfig is the docker CLI's configuration of this run (the one
	// `docker --config DIR` or DOCKER_CONFIG selects), read when a command
	// first needs it; nil reads DockerConfigDir.
	DockerConfig func() *configfile.ConfigFile
	// DockerConfigDir is the docker CLI configuration directory when
	// DockerConfig is nil; "" is DOCKER_CONFIG, else ~/.docker.
	DockerConfigDir string
}

// NewCommand returns the `devcache` command tree: the root flags, probe,
// version and the commands of more, with every flag's DEVCACHE_* variable
// bound (see bindEnv). Both binaries build their tree with it, so a flag
// or variable means the same in each.
func NewCommand(opts *Root, more ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "devcache",
		Short: "Build and cache dev container images with BuildKit",
		Long: `devcache builds the image a .devcontainer/devcontainer.json describes, exactly as
the reference devcontainer CLI would, with BuildKit doing the work, and caches
it in an OCI registry so that an unchanged config starts in seconds.

Every flag can also be set with an environment variable: DEVCACHE_ followed by
the flag name in upper case with dashes as underscores (e.g. DEVCACHE_CACHE_REPO).`,
		Example: `  # CI: build once and push the image and its layer cache, keyed by the config
  docker devcache push --cache-repo registry.example.com/team/devcache

  # Workspace start: is a prebuilt image for this exact config there? (exit 0 hit, 1 miss, 2 error)
  docker devcache probe --cache-repo registry.example.com/team/devcache

  # Build with the shared layer cache and push a tag of your own
  docker devcache build --cache-repo registry.example.com/team/devcache --push -t registry.example.com/me/dev:latest

  # Pin features, pre-pull for offline builds, show what would be built
  docker devcache lock
  docker devcache warm --dir /var/cache/devcache
  docker devcache plan --format json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&opts.WorkspaceFolder, "workspace-folder", "", "Workspace folder (default: the current directory)")
	pf.StringVar(&opts.Config, "config", "", "devcontainer.json to use (default: .devcontainer/devcontainer.json, then .devcontainer.json)")
	pf.StringVar(&opts.BuilderName, "builder", "", "buildx builder to use (default: the current builder)")
	pf.StringVar(&opts.BuildkitHost, "buildkit-host", os.Getenv("BUILDKIT_HOST"), "BuildKit daemon address, instead of a buildx builder (env BUILDKIT_HOST)")
	pf.StringSliceVar(&opts.Platforms, "platform", nil, "Target platforms (e.g. linux/amd64,linux/arm64)")
	pf.StringVar(&opts.Progress, "progress", defaultProgress(), "Progress output: auto, plain, tty, rawjson or quiet (env BUILDKIT_PROGRESS)")
	pf.StringVar(&opts.Format, "format", "text", "Result format: text or json")

	root.AddCommand(newProbeCommand(opts), newVersionCommand(opts))
	root.AddCommand(more...)
	bindEnv(root)
	return root
}

func defaultProgress() string {
	if v := os.Getenv("BUILDKIT_PROGRESS"); v != "" {
		return v
	}
	return "auto"
}

// bindEnv gives every flag of every command a DEVCACHE_* environment
// variable default, parsed as the flag parses its value. A flag set on the
// command line wins. A value the flag refuses is an error of every command
// that has the flag (unless the command line sets it), reported through the
// command's flag error function (exit 2 for probe), naming the variable.
func bindEnv(root *cobra.Command) {
	bad := map[*pflag.Flag]error{}
	apply := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			env := EnvName(f.Name)
			v, ok := os.LookupEnv(env)
			if !ok || f.Changed {
				return
			}
			if !strings.Contains(f.Usage, env) {
				f.Usage += " (env " + env + ")"
			}
			if err := setFromEnv(f, v); err != nil {
				bad[f] = fmt.Errorf("%s=%q: %w (the variable sets --%s; fix or unset it)", env, v, err, f.Name)
				return
			}
			f.DefValue = v
		})
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		apply(c.Flags())
		apply(c.PersistentFlags())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if len(bad) > 0 {
		checkEnvOnRun(root, bad)
	}
}

// setFromEnv sets f from its variable's value v: a list for slice flags.
func setFromEnv(f *pflag.Flag, v string) error {
	if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
		return sv.Replace(splitList(v))
	}
	return f.Value.Set(v)
}

// checkEnvOnRun makes every runnable command below root fail before it
// runs when one of its flags (its own or inherited) has a bad variable
// value and is not set on the command line.
func checkEnvOnRun(root *cobra.Command, bad map[*pflag.Flag]error) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() {
			return
		}
		next := c.PreRunE
		c.PreRunE = func(cmd *cobra.Command, args []string) error {
			var errs []error
			cmd.Flags().VisitAll(func(f *pflag.Flag) {
				if err, ok := bad[f]; ok && !f.Changed {
					errs = append(errs, err)
				}
			})
			if len(errs) > 0 {
				return cmd.FlagErrorFunc()(cmd, errors.Join(errs...))
			}
			if next != nil {
				return next(cmd, args)
			}
			return nil
		}
	}
	walk(root)
}

// EnvName is the environment variable that sets flag name.
func EnvName(flag string) string {
	return "DEVCACHE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Workspace finds the workspace folder and its config (--workspace-folder,
// --config) the way the reference CLI does.
func (o *Root) Workspace() (*resolver.Workspace, error) {
	return resolver.FindWorkspace(o.WorkspaceFolder, o.Config)
}

// Credentials are the registry credentials of this command run, its one
// credential source: the docker CLI's config file, the one `docker --config
// DIR` or DOCKER_CONFIG selects, with its credential helpers (plus
// DEVCONTAINERS_OCI_AUTH and GITHUB_TOKEN, see registry.Credentials).
// Resolution, probe, tags, referrers, prune, warm and the BuildKit session
// all use it.
func (o *Root) Credentials() *registry.Credentials {
	if o.DockerConfig != nil {
		if f := o.DockerConfig(); f != nil {
			return registry.NewCredentials(f)
		}
	}
	// Without a docker CLI (the plugin binary's own commands, tests):
	// DockerConfigDir, else DOCKER_CONFIG or ~/.docker, read now.
	return registry.LoadCredentials(o.DockerConfigDir)
}
