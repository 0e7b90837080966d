package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMetadataAnswer: the early answer to docker-cli-plugin-metadata (the
// docker CLI's first call of every `docker devcache …`) is byte for byte
// what the plugin framework's metadata subcommand prints (reached here with
// an extra argument, which skips the early answer).
func TestMetadataAnswer(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "docker-devcache")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	early, err := exec.Command(bin, "docker-cli-plugin-metadata").Output()
	if err != nil {
		t.Fatal(err)
	}
	framework, err := exec.Command(bin, "docker-cli-plugin-metadata", "framework").Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(early) != string(framework) {
		t.Errorf("early metadata answer:\n%s\nthe framework's:\n%s", early, framework)
	}
}
