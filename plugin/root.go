package plugin

import (
	"os"
	"strings"

	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// rootOptions are the flags every command shares.
type rootOptions struct {
	dockerCli       command.Cli
	workspaceFolder string
	config          string
	builder         string
	buildkitHost    string
	platforms       []string
	progress        string
	format          string
}

// NewRootCommand returns the `devcache` command tree for the docker CLI.
func NewRootCommand(dockerCli command.Cli) *cobra.Command {
	opts := &rootOptions{dockerCli: dockerCli}
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
	pf.StringVar(&opts.workspaceFolder, "workspace-folder", "", "Workspace folder (default: the current directory)")
	pf.StringVar(&opts.config, "config", "", "devcontainer.json to use (default: .devcontainer/devcontainer.json, then .devcontainer.json)")
	pf.StringVar(&opts.builder, "builder", "", "buildx builder to use (default: the current builder)")
	pf.StringVar(&opts.buildkitHost, "buildkit-host", os.Getenv("BUILDKIT_HOST"), "BuildKit daemon address, instead of a buildx builder (env BUILDKIT_HOST)")
	pf.StringSliceVar(&opts.platforms, "platform", nil, "Target platforms (e.g. linux/amd64,linux/arm64)")
	pf.StringVar(&opts.progress, "progress", defaultProgress(), "Progress output: auto, plain, tty, rawjson or quiet (env BUILDKIT_PROGRESS)")
	pf.StringVar(&opts.format, "format", "text", "Result format: text or json")

	for _, mk := range commands {
		root.AddCommand(mk(opts))
	}
	bindEnv(root)
	return root
}

// commands are the subcommands, in help order. Each command's file adds
// itself from an init function, so commands can be added without touching
// this file.
var commands []func(*rootOptions) *cobra.Command

func registerCommand(mk func(*rootOptions) *cobra.Command) {
	commands = append(commands, mk)
}

func init() {
	registerCommand(newBuildCommand)
	registerCommand(newPlanCommand)
	registerCommand(newVersionCommand)
}

func defaultProgress() string {
	if v := os.Getenv("BUILDKIT_PROGRESS"); v != "" {
		return v
	}
	return "auto"
}

// bindEnv gives every flag of every command a DEVCACHE_* environment
// variable default. A flag set on the command line wins.
func bindEnv(root *cobra.Command) {
	apply := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			env := EnvName(f.Name)
			v, ok := os.LookupEnv(env)
			if !ok || f.Changed {
				return
			}
			if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
				_ = sv.Replace(splitList(v))
			} else {
				_ = f.Value.Set(v)
			}
			f.DefValue = v
			if !strings.Contains(f.Usage, env) {
				f.Usage += " (env " + env + ")"
			}
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
