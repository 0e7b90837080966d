package repotest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxPluginFiles is how many non-test Go files plugin/ may hold: the cobra
// wiring only (root, flags, output, doc and one file per command); the work
// lives in its sub-packages.
const maxPluginFiles = 12

// TestPluginLayout enforces issue 9's layout: plugin/ has at most a dozen
// non-test Go files of its own, no package below it but plugin/cmdline (the
// commands the docker-devcache binary links) imports cobra or pflag,
// and none depends on them at all, except plugin/builder, which depends on
// the docker CLI's command package (cobra): there the check is that the
// path to cobra goes through the docker CLI, never through the plugin's own
// code.
func TestPluginLayout(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "plugin", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			own = append(own, filepath.Base(f))
		}
	}
	if len(own) > maxPluginFiles {
		t.Errorf("plugin/ has %d non-test Go files, at most %d (the cobra wiring only; move work into a sub-package): %v", len(own), maxPluginFiles, own)
	}

	pkgs := goList(t, root, "-f", "{{.ImportPath}}", "./plugin/...")
	for _, pkg := range pkgs {
		// The command packages: the whole tree, and cmdline, its part
		// the docker-devcache binary links (root flags, probe, version).
		if strings.HasSuffix(pkg, "/plugin") || strings.HasSuffix(pkg, "/plugin/cmdline") {
			continue
		}
		for _, imp := range goList(t, root, "-f", `{{join .Imports "\n"}}`, pkg) {
			if isFlagLib(imp) {
				t.Errorf("%s imports %s: only the commands in plugin/ may", pkg, imp)
			}
		}
		if strings.HasSuffix(pkg, "/plugin/builder") {
			checkFlagLibOnlyThroughDockerCLI(t, root, pkg)
			continue
		}
		for _, dep := range goList(t, root, "-deps", "-f", "{{.ImportPath}}", pkg) {
			if isFlagLib(dep) {
				t.Errorf("go list -deps %s includes %s: no package below the commands may depend on cobra or pflag", pkg, dep)
			}
		}
	}
}

// checkFlagLibOnlyThroughDockerCLI fails when a package of this module that
// pkg depends on (pkg included) reaches cobra or pflag other than through
// the docker CLI.
func checkFlagLibOnlyThroughDockerCLI(t *testing.T, root, pkg string) {
	t.Helper()
	const module = "github.com/devcache/devcache/"
	for _, line := range goList(t, root, "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, pkg) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module) {
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) || strings.HasPrefix(imp, "github.com/docker/cli/") {
				continue
			}
			for _, dep := range goList(t, root, "-deps", "-f", "{{.ImportPath}}", imp) {
				if isFlagLib(dep) {
					t.Errorf("%s reaches %s through %s (only the docker CLI's command package may bring it in)", fields[0], dep, imp)
				}
			}
		}
	}
}

func isFlagLib(p string) bool {
	return p == "github.com/spf13/cobra" || p == "github.com/spf13/pflag"
}

// goList runs go list with args in root and returns its output lines.
func goList(t *testing.T, root string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
