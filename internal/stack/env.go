package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Env is the environment that points tools at the stack: BUILDKIT_HOST for
// buildctl and the BuildKit client, DOCKER_CONFIG and BUILDX_BUILDER for
// docker buildx, DEVCACHE_REGISTRY and DEVCACHE_STACK_DIR for devcache's
// tests and scripts, and PATH with BinDir first. Append it to os.Environ()
// for a child process.
func (s *Stack) Env() []string {
	return append(s.vars(), "PATH="+s.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func (s *Stack) vars() []string {
	return []string{
		"BUILDKIT_HOST=" + s.BuildkitAddr,
		"DOCKER_CONFIG=" + s.DockerConfig,
		"BUILDX_BUILDER=" + s.Builder,
		"DEVCACHE_REGISTRY=" + s.Registry,
		"DEVCACHE_STACK_DIR=" + s.Dir,
	}
}

// Exports renders Env as POSIX shell, for eval "$(hack/stack env)"; PATH
// gains BinDir only once however often it is evaluated.
func (s *Stack) Exports() string {
	var b strings.Builder
	for _, kv := range s.vars() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	bin := shellQuote(filepath.Clean(s.BinDir))
	fmt.Fprintf(&b, "case \":$PATH:\" in *:%s:*) ;; *) export PATH=%s:\"$PATH\" ;; esac\n", bin, bin)
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// String is a one-line summary.
func (s *Stack) String() string {
	return fmt.Sprintf("stack %s: registry %s, buildkitd %s, builder %s", s.Dir, s.Registry, s.BuildkitAddr, s.Builder)
}
