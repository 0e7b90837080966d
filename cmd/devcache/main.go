// Command devcache is devcache's whole command line: every command of
// `docker devcache`, run directly as `devcache COMMAND` or by the
// docker-devcache plugin binary, which answers the docker CLI's metadata
// call, probe and version itself and hands every other command to this
// binary (it would otherwise pay this binary's start-up on every probe).
package main

import (
	"encoding/json"
	"os"

	"github.com/devcache/devcache/internal/version"
	"github.com/devcache/devcache/plugin"
	"github.com/docker/cli/cli-plugins/metadata"
	cliplugin "github.com/docker/cli/cli-plugins/plugin"
)

var meta = metadata.Metadata{
	SchemaVersion:    "0.1.0",
	Vendor:           "devcache",
	Version:          version.Version,
	ShortDescription: "Build and cache dev container images with BuildKit",
	URL:              "https://github.com/devcache/devcache",
}

func main() {
	// The docker CLI asks every plugin for its metadata before running
	// it (docker devcache … runs this binary twice): answer before
	// building the docker CLI and the command tree, as the plugin
	// framework's own metadata subcommand would.
	if len(os.Args) == 2 && os.Args[1] == metadata.MetadataSubcommandName {
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "     ")
		if err := enc.Encode(meta); err != nil {
			os.Exit(1)
		}
		return
	}
	// Run directly, the plugin framework still expects the plugin's name as
	// the first argument, as the docker CLI passes it.
	if cliplugin.RunningStandalone() && (len(os.Args) < 2 || os.Args[1] != "devcache") {
		os.Args = append([]string{os.Args[0], "devcache"}, os.Args[1:]...)
	}
	cliplugin.Run(plugin.NewRootCommand, meta)
}
