package plan_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
)

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, _ := os.ReadFile(p)
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode())
	})
}

// The same Plan twice is byte-identical; the key does not depend on the
// checkout path, JSONC comments, whitespace or file modes, and does change
// with an option or a local feature file.
func TestPlanDeterminismAndKey(t *testing.T) {
	src := testdata(t, "conformance/c6-options")
	a := filepath.Join(t.TempDir(), "checkout-a", "c6")
	b := filepath.Join(t.TempDir(), "elsewhere", "c6")
	copyTree(t, src, a)
	copyTree(t, src, b)
	p1 := mustPlan(t, a, plan.Options{}).Plan
	p2 := mustPlan(t, a, plan.Options{}).Plan
	if !bytes.Equal(p1.JSON(), p2.JSON()) || p1.Key() != p2.Key() {
		t.Fatal("the same plan twice differs")
	}
	// Comments, whitespace and key order of keys that do not reach the label.
	cfg := filepath.Join(b, ".devcontainer", "devcontainer.json")
	orig, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte("// comment\n"+strings.ReplaceAll(string(orig), "\t", "    ")+"\n/* trailing */"), 0o644)
	os.Chmod(filepath.Join(b, ".devcontainer", "localFeatureA", "install.sh"), 0o700)
	if p3 := mustPlan(t, b, plan.Options{}).Plan; p3.Key() != p1.Key() {
		t.Errorf("checkout path, comments, whitespace or modes changed the key:\n%s\n%s", p1.JSON(), p3.JSON())
	}
	// An option changes it.
	os.WriteFile(cfg, []byte(strings.Replace(string(orig), "gold", "green", 1)), 0o644)
	if p4 := mustPlan(t, b, plan.Options{}).Plan; p4.Key() == p1.Key() {
		t.Error("an option did not change the key")
	}
	os.WriteFile(cfg, orig, 0o644)
	// A local feature's file changes it.
	os.WriteFile(filepath.Join(b, ".devcontainer", "localFeatureB", "install.sh"), []byte("#!/bin/sh\necho changed\n"), 0o755)
	if p5 := mustPlan(t, b, plan.Options{}).Plan; p5.Key() == p1.Key() {
		t.Error("a local feature file did not change the key")
	}
	// The platform changes it.
	res, err := planFor(t, a, newResolver(t, resolve.Options{}), plan.Options{Platform: "linux/arm64"})
	if err != nil || res.Plan.Key() == p1.Key() {
		t.Errorf("platform did not change the key: %v", err)
	}
}
