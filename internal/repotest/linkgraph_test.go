package repotest

import (
	"strings"
	"testing"
)

// unlinked are import-path prefixes the plugin binary must not link: buildx
// (its builder drivers are reached through `docker buildx dial-stdio`, see
// plugin/builder) and the heavy dependencies that came with it, whose
// package init every `docker devcache` run paid, twice through the docker
// CLI (issues 12 and 14).
var unlinked = []string{
	"github.com/docker/buildx/",
	"k8s.io/client-go/",
	"github.com/open-policy-agent/opa/",
	"github.com/aws/aws-sdk-go-v2/",
	"github.com/vektah/gqlparser/",
	"github.com/go-openapi/",
	"github.com/asaskevich/govalidator",
	"github.com/sigstore/",
}

// startOnly are import-path prefixes the docker-devcache binary, which the
// docker CLI starts twice per `docker devcache probe`, must not link
// beyond unlinked: what only the commands it hands to the devcache binary
// need (BuildKit's client and gRPC, the docker CLI's command package, the
// Compose loader and its JSON Schema compiler, OpenTelemetry's SDK).
var startOnly = []string{
	"github.com/moby/buildkit/client",
	"google.golang.org/grpc",
	"github.com/docker/cli/cli/command",
	"github.com/docker/docker/",
	"github.com/moby/moby/",
	"github.com/compose-spec/compose-go/",
	"github.com/santhosh-tekuri/jsonschema",
	"github.com/devcache/devcache/devcontainer/compose/composego",
	"go.opentelemetry.io/otel/sdk",
}

// TestPluginLinkGraph fails when a binary's import graph (go list -deps)
// contains a package it must not link, naming the path that brings it in:
// unlinked for both plugin binaries, startOnly too for docker-devcache.
func TestPluginLinkGraph(t *testing.T) {
	root := repoRoot(t)
	checkLinks(t, root, "./cmd/devcache", unlinked)
	checkLinks(t, root, "./cmd/docker-devcache", append(append([]string{}, unlinked...), startOnly...))
}

// checkLinks fails for each package of cmd's graph that a prefix of
// banned matches.
func checkLinks(t *testing.T, root, cmd string, banned []string) {
	t.Helper()
	imports := map[string][]string{}
	var order []string
	for _, line := range goList(t, root, "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, cmd) {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
		order = append(order, f[0])
	}
	main := order[len(order)-1]
	for _, pkg := range order {
		for _, bad := range banned {
			if strings.HasPrefix(pkg, bad) || pkg == strings.TrimSuffix(bad, "/") {
				t.Errorf("%s links %s: %s", cmd, pkg, strings.Join(importPath(imports, main, pkg), " -> "))
				break
			}
		}
	}
}

// importPath is a shortest import chain from main to pkg.
func importPath(imports map[string][]string, main, pkg string) []string {
	prev := map[string]string{main: ""}
	queue := []string{main}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == pkg {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, i := range imports[p] {
			if _, seen := prev[i]; !seen {
				prev[i] = p
				queue = append(queue, i)
			}
		}
	}
	return []string{pkg}
}
