package plan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
)

func TestContextSources(t *testing.T) {
	for _, c := range []struct {
		name, dockerfile string
		want             []string
		whole            bool
	}{
		{"copy and add", "FROM a\nCOPY src/ /src/\nADD --chown=1:1 b.tar c /x/\n", []string{"src", "b.tar", "c"}, false},
		{"json form", `FROM a` + "\n" + `COPY ["a b.txt", "./c/", "/dst/"]` + "\n", []string{"a b.txt", "c"}, false},
		{"from another stage or image", "FROM a AS b\nCOPY --from=b /x /y\nCOPY --from=busybox /bin/sh /sh\n", nil, false},
		{"continuation and comments", "FROM a\nCOPY \\\n  # a comment\n  one \\\n  two /dst\n", []string{"one", "two"}, false},
		{"escape directive", "# escape=`\nFROM a\nCOPY x `\n  y C:\\dst\n", []string{"x", "y"}, false},
		{"remote add", "FROM a\nADD https://example.com/f.tgz /f.tgz\nADD git@github.com:a/b.git /b\n", nil, false},
		{"variable means the whole context", "FROM a\nARG D=src\nCOPY $D /d\n", nil, true},
		{"run bind mounts", "FROM a\nRUN --mount=type=bind,source=tools,target=/t --mount=type=cache,target=/c make\nRUN --mount=target=/w ls /w\nRUN --mount=type=bind,from=b,target=/b ls\n", []string{"tools", "."}, false},
		{"heredoc bodies are not instructions", "FROM a\nCOPY <<EOF /etc/x\nCOPY not/a/source /y\nEOF\nRUN <<EOT\nADD fake /z\nEOT\n", nil, false},
		{"onbuild", "FROM a\nONBUILD COPY later /later\n", []string{"later"}, false},
		{"absolute and dot sources", "FROM a\nCOPY /abs ./rel . /dst\n", []string{"abs", "rel", "."}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, whole := contextSources(c.dockerfile)
			if !reflect.DeepEqual(got, c.want) || whole != c.whole {
				t.Errorf("contextSources = %q, whole=%v; want %q, %v", got, whole, c.want, c.whole)
			}
		})
	}
}

func TestSelected(t *testing.T) {
	for _, c := range []struct {
		path    string
		sources []string
		want    bool
	}{
		{"src/a.go", []string{"src"}, true},
		{"src", []string{"src"}, true},
		{"srcx/a.go", []string{"src"}, false},
		{"a/b/c.txt", []string{"a/*"}, true},
		{"x.txt", []string{"*.txt"}, true},
		{"d/x.txt", []string{"*.txt"}, false},
		{"anything", []string{"."}, true},
	} {
		if got := selected(c.path, c.sources); got != c.want {
			t.Errorf("selected(%q, %q) = %v, want %v", c.path, c.sources, got, c.want)
		}
	}
}

func TestExternalImageRefs(t *testing.T) {
	df := "# syntax=docker/dockerfile:1.7\n# check=skip=all\nARG BASE=debian\nARG TAG\nFROM --platform=$BUILDPLATFORM golang:${GO:-1.22} AS build\nFROM ${BASE}:${TAG:-12} AS base\nFROM build AS again\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\nCOPY --from=docker.io/library/alpine:3 /c /c\nRUN --mount=type=bind,from=ghcr.io/x/y:1,target=/y ls\nRUN --mount=type=cache,target=/c ls\nFROM $UNKNOWN\n"
	got := externalImageRefs(df, []devcontainer.EnvVar{{Name: "TAG", Value: "bookworm"}}, "linux/amd64")
	want := []imageRef{{"debian:bookworm", "FROM"}, {"docker.io/library/alpine:3", "COPY --from"}, {"ghcr.io/x/y:1", "RUN --mount from"}, {"golang:1.22", "FROM"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("externalImageRefs = %q, want %q", got, want)
	}
}

// FuzzDockerfileReads: the Dockerfile scanners never panic, and every
// context source they report stays inside the context.
func FuzzDockerfileReads(f *testing.F) {
	for _, s := range []string{
		"FROM a\nCOPY src/ /src/\n",
		"# escape=`\nFROM a\nCOPY x `\n  y /d\n",
		"FROM a AS b\nCOPY --from=b /x /y\nRUN --mount=type=bind,source=../../etc,target=/e ls\n",
		"ARG A=${B:-c}\nFROM $A\nCOPY [\"a\", \"b\"]\nRUN <<EOF\nx\nEOF\n",
		"ONBUILD ADD https://x/y /z\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, df string) {
		sources, _ := contextSources(df)
		for _, s := range sources {
			if s != "." && (strings.HasPrefix(s, "/") || s == ".." || strings.HasPrefix(s, "../")) {
				t.Errorf("source %q escapes the context", s)
			}
		}
		_ = externalImageRefs(df, nil, "linux/amd64")
	})
}
