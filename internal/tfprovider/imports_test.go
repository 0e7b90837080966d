package tfprovider

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/devcache/devcache/internal/stack"
)

// TestProviderModulesStayOutOfThePlugin: Terraform's and go-git's modules,
// which only the provider needs, are not in the import graph of
// docker-devcache, devcache or the frontend.
func TestProviderModulesStayOutOfThePlugin(t *testing.T) {
	root, err := stack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "./cmd/docker-devcache", "./cmd/devcache", "./cmd/devcache-frontend")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/hashicorp/terraform-", "github.com/go-git/", "github.com/devcache/devcache/internal/tfprovider"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("the plugin or the frontend imports %s: only cmd/terraform-provider-devcache may", pkg)
			}
		}
	}
}
