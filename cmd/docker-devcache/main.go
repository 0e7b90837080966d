// Command docker-devcache is the `docker devcache` CLI plugin. It answers
// the docker CLI's metadata call, probe and version itself and execs the
// devcache binary (cmd/devcache) for every other command: the docker CLI
// starts a plugin twice per command (metadata, then the command), and a
// probe should cost about one registry round trip, not two starts of a
// binary that links BuildKit's client, the docker CLI and the Compose
// loader. It also runs directly as `docker-devcache COMMAND`.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/compose"
	"github.com/devcache/devcache/plugin/cmdline"
)

func main() {
	cmdline.AnswerMetadataCall(os.Args[1:])
	args, configDir := pluginArgs(os.Args[1:], os.Getenv(reexecEnv) != "")
	root := cmdline.NewCommand(&cmdline.Root{DockerConfigDir: configDir})
	cmd, _, err := root.Find(args)
	if err != nil || !ownCommand(root, cmd) || asksHelp(args) {
		handOver(cmd)
	}
	root.SetArgs(args)
	err = root.Execute()
	if errors.Is(err, compose.ErrNoLoader) {
		// A Compose config: only the devcache binary loads Compose
		// projects. Nothing was written yet.
		handOver(cmd)
	}
	cmdline.Exit(err)
}

// ownCommand tells whether this binary runs cmd itself: probe and version.
func ownCommand(root, cmd *cobra.Command) bool {
	return cmd != nil && cmd != root && cmd.Parent() == root && cmd.Runnable() &&
		(cmd.Name() == "probe" || cmd.Name() == "version")
}

// asksHelp tells whether args ask for help: devcache prints it, in the
// docker CLI's help layout when the docker CLI runs it.
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help":
			return true
		}
	}
	return false
}

// handOver execs the devcache binary with this process's arguments and
// environment; it returns only on failure, with exit code 2 for probe
// (an error, never a miss) and 1 otherwise.
func handOver(cmd *cobra.Command) {
	code := 1
	if cmd != nil && cmd.Name() == "probe" {
		code = cmdline.ExitError
	}
	path, err := enginePath()
	if err == nil {
		err = execEngine(path, os.Args[1:])
	}
	cmdline.Exit(cmdline.StatusError{Cause: err, Status: fmt.Sprintf("docker-devcache: %v", err), StatusCode: code})
}
