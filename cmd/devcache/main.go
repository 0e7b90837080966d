// Command devcache is devcache's whole command line: every command of
// `docker devcache`, run directly as `devcache COMMAND` or handed over by
// the docker-devcache plugin binary, which answers the docker CLI's
// metadata call, probe and version itself and execs this binary for every
// other command (this binary links BuildKit's client, the docker CLI and
// the Compose loader, whose start-up a probe should not pay).
package main

import (
	"errors"
	"os"

	"github.com/docker/cli/cli"
	cliplugin "github.com/docker/cli/cli-plugins/plugin"
	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/debug"
	"go.opentelemetry.io/otel"

	"github.com/devcache/devcache/plugin"
	"github.com/devcache/devcache/plugin/cmdline"
)

func main() {
	cmdline.AnswerMetadataCall(os.Args[1:])
	// Run directly, the plugin framework still expects the plugin's name as
	// the first argument, as the docker CLI passes it.
	if cliplugin.RunningStandalone() && (len(os.Args) < 2 || os.Args[1] != "devcache") {
		os.Args = append([]string{os.Args[0], "devcache"}, os.Args[1:]...)
	}
	otel.SetErrorHandler(debug.OTELErrorHandler) // as cliplugin.Run does
	dockerCli, err := command.NewDockerCli()
	if err != nil {
		cmdline.Exit(err)
	}
	err = cliplugin.RunPlugin(dockerCli, plugin.NewRootCommand(dockerCli), cmdline.Metadata)
	// The framework's own failures are docker CLI status errors.
	if st, ok := errors.AsType[cli.StatusError](err); ok {
		err = cmdline.StatusError{Cause: st.Cause, Status: st.Status, StatusCode: st.StatusCode}
	}
	cmdline.Exit(err)
}
