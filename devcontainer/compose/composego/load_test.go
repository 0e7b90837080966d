package composego

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/compose"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func loadFiles(t *testing.T, dir string, service string, env []string, files ...string) (*compose.Service, error) {
	t.Helper()
	var abs []string
	for _, f := range files {
		abs = append(abs, filepath.ToSlash(filepath.Join(dir, f)))
	}
	return compose.Load(context.Background(), Options{Files: abs, Service: service, Environ: env})
}

// The files merge in order, .env of the first file's folder and the
// client env interpolate (the env winning), extends and profiles apply.
func TestLoadBuildService(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		".devcontainer/docker-compose.yml": `
services:
  base:
    build:
      args: {FROM_BASE: "1"}
  app:
    extends: base
    profiles: [dev]
    user: ${APP_USER:-vscode}
    build:
      context: ..
      dockerfile: .devcontainer/Dockerfile
      args:
        FLAVOR: ${FLAVOR:-plain}
        FROM_ENV: ${FROM_ENV}
      target: ${TARGET:-dev}
    ports: ["8080:80"]
  db:
    image: postgres:16
`,
		".devcontainer/.env":                  "FLAVOR=fromdotenv\nFROM_ENV=dotenv\n",
		".devcontainer/docker-compose.ci.yml": "services:\n  app:\n    build:\n      args: {EXTRA: x}\n",
	})
	s, err := loadFiles(t, dir, "app", []string{"FROM_ENV=client"}, ".devcontainer/docker-compose.yml", ".devcontainer/docker-compose.ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.ToSlash(dir)
	if s.Build == nil || s.Build.Context != root || s.Build.Path != root+"/.devcontainer/Dockerfile" || s.Build.Target != "dev" {
		t.Fatalf("build = %+v", s.Build)
	}
	want := []devcontainer.EnvVar{{Name: "EXTRA", Value: "x"}, {Name: "FLAVOR", Value: "fromdotenv"}, {Name: "FROM_BASE", Value: "1"}, {Name: "FROM_ENV", Value: "client"}}
	if len(s.Build.Args) != len(want) {
		t.Fatalf("args = %v, want %v", s.Build.Args, want)
	}
	for i := range want {
		if s.Build.Args[i] != want[i] {
			t.Fatalf("args = %v, want %v", s.Build.Args, want)
		}
	}
	if s.User != "vscode" {
		t.Fatalf("user = %q", s.User)
	}
}

// The image comes from the environment; env_file and label_file (the
// container's, not the image's) are not read.
func TestLoadImageService(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"docker-compose.yml": "services:\n  app:\n    image: ${IMG:-alpine:3.20}\n    user: node\n    env_file: [{path: not-here.env, required: true}]\n    label_file: not-here.labels\n"})
	s, err := loadFiles(t, dir, "app", []string{"IMG=busybox:1"}, "docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Build != nil || s.Image != "busybox:1" || s.User != "node" {
		t.Fatalf("service = %+v", s)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"ok.yml":      "services:\n  app:\n    image: alpine\n  inline:\n    build:\n      dockerfile_inline: FROM alpine\n",
		"empty.yml":   "services:\n  app:\n    ports: [\"80\"]\n",
		"invalid.yml": "services:\n  app:\n    image: [unclosed\n",
	})
	for _, tc := range []struct {
		file, service string
		want          []string
	}{
		{"ok.yml", "nope", []string{"Service 'nope' configured in devcontainer.json not found in Docker Compose configuration", "ok.yml"}},
		{"empty.yml", "app", []string{"empty.yml:2: ", `service "app" has neither`}},
		{"ok.yml", "inline", []string{"ok.yml", `service "inline"`, "dockerfile_inline"}},
		{"missing.yml", "app", []string{"missing.yml not found"}},
		{"invalid.yml", "app", []string{"invalid.yml: invalid YAML", "line 3"}},
	} {
		_, err := loadFiles(t, dir, tc.service, nil, tc.file)
		if err == nil {
			t.Fatalf("%s %s: no error", tc.file, tc.service)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %s: error %q does not contain %q", tc.file, tc.service, err, w)
			}
		}
	}
}

// extends of another file (read from disk by Compose's loader), with the
// other file's build context relative to that file; .env values may refer
// to the environment and to earlier .env entries.
func TestLoadExtendsFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"dev/compose.yml":       "services:\n  app:\n    extends: {file: ../common/base.yml, service: base}\n    build:\n      args: {B: \"${B}\"}\n",
		"dev/.env":              "A=${HOME_DIR}/a\nB=${A}/b\n",
		"common/base.yml":       "services:\n  base:\n    build:\n      context: ctx\n      args: {A: \"${A}\"}\n",
		"common/ctx/Dockerfile": "FROM scratch\n",
	})
	s, err := loadFiles(t, dir, "app", []string{"HOME_DIR=/h"}, "dev/compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.ToSlash(dir)
	if s.Build == nil || s.Build.Context != root+"/common/ctx" || len(s.Build.Args) != 2 ||
		s.Build.Args[0] != (devcontainer.EnvVar{Name: "A", Value: "/h/a"}) || s.Build.Args[1] != (devcontainer.EnvVar{Name: "B", Value: "/h/a/b"}) {
		t.Fatalf("build = %+v", s.Build)
	}
}

// extends of another file goes through ReadFile like the Compose files (on
// the // syntax= route they are in the build context, not on a disk),
// nested extends relative to the extended file; a missing one is named.
func TestLoadExtendsFileThroughReadFile(t *testing.T) {
	files := map[string]string{
		"/ctx/.devcontainer/docker-compose.yml": "services:\n  app:\n    extends: {file: ../common/base.yml, service: base}\n",
		"/ctx/common/base.yml":                  "services:\n  base:\n    extends: {file: deeper/root.yml, service: root}\n    build:\n      args: {FROM_BASE: \"1\"}\n",
		"/ctx/common/deeper/root.yml":           "services:\n  root:\n    build:\n      context: src\n      target: dev\n",
	}
	read := func(p string) ([]byte, error) {
		if d, ok := files[p]; ok {
			return []byte(d), nil
		}
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	o := Options{Files: []string{"/ctx/.devcontainer/docker-compose.yml"}, Service: "app", Environ: []string{}, ReadFile: read}
	s, err := compose.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Build == nil || s.Build.Context != "/ctx/common/deeper/src" || s.Build.Target != "dev" || len(s.Build.Args) != 1 || s.Build.Args[0].Name != "FROM_BASE" {
		t.Fatalf("build = %+v", s.Build)
	}
	delete(files, "/ctx/common/deeper/root.yml")
	if _, err := compose.Load(context.Background(), o); err == nil || !strings.Contains(err.Error(), "/ctx/common/deeper/root.yml not found") || strings.Contains(err.Error(), "devcache-compose-extends") {
		t.Errorf("missing extended file: %v", err)
	}
}
