// Command docker-devcache is the `docker devcache` CLI plugin. It also runs
// directly as `docker-devcache COMMAND`.
package main

import (
	"os"

	"github.com/devcache/devcache/internal/version"
	"github.com/devcache/devcache/plugin"
	"github.com/docker/cli/cli-plugins/metadata"
	cliplugin "github.com/docker/cli/cli-plugins/plugin"
)

func main() {
	// Run directly, the plugin framework still expects the plugin's name as
	// the first argument, as the docker CLI passes it.
	if cliplugin.RunningStandalone() && (len(os.Args) < 2 || os.Args[1] != "devcache") {
		os.Args = append([]string{os.Args[0], "devcache"}, os.Args[1:]...)
	}
	cliplugin.Run(plugin.NewRootCommand, metadata.Metadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "devcache",
		Version:          version.Version,
		ShortDescription: "Build and cache dev container images with BuildKit",
		URL:              "https://github.com/devcache/devcache",
	})
}
