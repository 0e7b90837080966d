package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/docker/cli/cli-plugins/metadata"
)

// reexecEnv is set by the docker CLI when it runs a plugin.
const reexecEnv = metadata.ReexecEnvvar

// engineEnv names the devcache binary explicitly.
const engineEnv = "DEVCACHE_ENGINE"

// engineName is the devcache binary's file name. It has no "docker-"
// prefix, so the docker CLI does not take it for a plugin when it sits in
// a cli-plugins directory beside this binary.
func engineName() string {
	if runtime.GOOS == "windows" {
		return "devcache.exe"
	}
	return "devcache"
}

// enginePath finds the devcache binary: $DEVCACHE_ENGINE, else beside this
// binary (its symlinks resolved, so that a link in cli-plugins finds the
// engine beside its target), else on PATH.
func enginePath() (string, error) {
	if p := os.Getenv(engineEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", engineEnv, p, err)
		}
		return p, nil
	}
	self, err := os.Executable()
	if err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		beside := filepath.Join(filepath.Dir(self), engineName())
		if _, err := os.Stat(beside); err == nil {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(engineName()); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("this command runs in the devcache binary, which is neither beside %s nor on PATH: install both files of a release (docker-devcache and devcache, into the same directory) or set %s to its path", self, engineEnv)
}

// pluginArgs are the arguments of the devcache command line in args
// (os.Args[1:]) and the docker CLI configuration directory given with
// `docker --config DIR`. Run by the docker CLI (viaDocker), args are the
// docker CLI's own: its global options, the plugin's name, then the
// command; run directly, the command, optionally after the plugin's name.
func pluginArgs(args []string, viaDocker bool) (rest []string, configDir string) {
	if !viaDocker {
		if len(args) > 0 && args[0] == "devcache" {
			return args[1:], ""
		}
		return args, ""
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "devcache":
			return args[i+1:], configDir
		case strings.HasPrefix(a, "--config="):
			configDir = strings.TrimPrefix(a, "--config=")
		case a == "--config" && i+1 < len(args):
			configDir = args[i+1]
			i++
		case takesValue(a) && i+1 < len(args):
			i++
		}
	}
	return nil, configDir
}

// takesValue tells whether the docker CLI's global option a (without
// "=value") is followed by its value: --context, --host, --log-level and
// the TLS files, or a run of shorthands ending in -c, -H or -l. The docker
// CLI has parsed and checked them already; only where they end matters
// here (docker/cli's flag set itself links the moby client this binary
// leaves out).
func takesValue(a string) bool {
	switch a {
	case "--context", "--host", "--log-level", "--tlscacert", "--tlscert", "--tlskey":
		return true
	}
	if strings.HasPrefix(a, "--") || !strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
		return false
	}
	return strings.ContainsAny(a[len(a)-1:], "cHl")
}
