package plugin

import (
	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/plugin/builder"
	"github.com/devcache/devcache/plugin/cmdline"

	// Compose configs: compose-go, registered as compose.Load's loader.
	_ "github.com/devcache/devcache/devcontainer/compose/composego"
)

// rootOptions are the flags every command shares (cmdline.Root) and the
// docker CLI the commands that build reach the engine and builders with.
type rootOptions struct {
	*cmdline.Root
	dockerCli command.Cli
}

// NewRootCommand returns the whole `devcache` command tree for the docker
// CLI: cmdline's root, probe and version, and the commands that build.
func NewRootCommand(dockerCli command.Cli) *cobra.Command {
	opts := &rootOptions{Root: &cmdline.Root{}, dockerCli: dockerCli}
	if dockerCli != nil {
		opts.DockerConfig = func() *configfile.ConfigFile { return dockerCli.ConfigFile() }
	}
	var more []*cobra.Command
	for _, mk := range commands {
		more = append(more, mk(opts))
	}
	return cmdline.NewCommand(opts.Root, more...)
}

// commands are the subcommands beyond cmdline's. Each command's file adds
// itself from an init function, so commands can be added without touching
// this file.
var commands []func(*rootOptions) *cobra.Command

func registerCommand(mk func(*rootOptions) *cobra.Command) {
	commands = append(commands, mk)
}

func init() {
	registerCommand(newBuildCommand)
	registerCommand(newPlanCommand)
}

// builderOptions is where the builder flags (--builder, --buildkit-host) point;
// cacheExport refuses a builder that cannot export the layer cache.
func (o *rootOptions) builderOptions(cacheExport bool) builder.Options {
	return builder.Options{Host: o.BuildkitHost, DockerCli: o.dockerCli, Name: o.BuilderName, CacheExport: cacheExport}
}
