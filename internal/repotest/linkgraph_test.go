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

// TestPluginLinkGraph fails when the plugin binary's import graph
// (go list -deps ./cmd/docker-devcache) contains a package of unlinked,
// naming the path that brings it in.
func TestPluginLinkGraph(t *testing.T) {
	root := repoRoot(t)
	imports := map[string][]string{}
	var order []string
	for _, line := range goList(t, root, "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./cmd/docker-devcache") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
		order = append(order, f[0])
	}
	main := order[len(order)-1]
	for _, pkg := range order {
		for _, bad := range unlinked {
			if strings.HasPrefix(pkg, bad) || pkg == strings.TrimSuffix(bad, "/") {
				t.Errorf("the plugin links %s: %s", pkg, strings.Join(importPath(imports, main, pkg), " -> "))
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
