package dockerfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReadSources(t *testing.T) {
	for _, c := range []struct {
		name, dockerfile string
		o                Options
		want             []string
		whole            bool
	}{
		{"copy and add", "FROM a\nCOPY src/ /src/\nADD --chown=1:1 b.tar c /x/\n", Options{}, []string{"src", "b.tar", "c"}, false},
		{"json form", "FROM a\nCOPY [\"a b.txt\", \"./c/\", \"/dst/\"]\n", Options{}, []string{"a b.txt", "c"}, false},
		// Issue 9: a "<<" inside a quoted string is no heredoc; the old
		// scanner skipped every later line looking for its end.
		{"quoted << is not a heredoc", "FROM a\nRUN echo \"a <<b\"\nCOPY data.txt /data.txt\n", Options{}, []string{"data.txt"}, false},
		{"here-string", "FROM a\nRUN cat <<<word\nCOPY data.txt /data.txt\n", Options{}, []string{"data.txt"}, false},
		{"heredocs read nothing", "FROM a\nCOPY <<EOF /etc/x\nCOPY not/a/source /y\nEOF\nRUN <<EOT\nADD fake /z\nEOT\nCOPY <<-EOF data.txt /d/\n\tx\n\tEOF\n", Options{}, []string{"data.txt"}, false},
		{"from a stage or an image", "FROM a AS b\nCOPY --from=b /x /y\nCOPY --from=busybox /bin/sh /sh\nCOPY --from=0 /z /z\n", Options{}, nil, false},
		{"run bind mounts", "FROM a AS b\nFROM a\nRUN --mount=type=bind,source=tools,target=/t --mount=type=cache,target=/c make\nRUN --mount=target=/w ls /w\nRUN --mount=type=bind,from=b,target=/b ls\nRUN --mount=type=secret,id=s cat /run/secrets/s\n", Options{}, []string{"tools", "."}, false},
		{"mount source from an ARG", "FROM a\nARG T=tools\nRUN --mount=type=bind,source=$T,target=/t make\n", Options{}, []string{"tools"}, false},
		{"global ARG default", "ARG D=src\nFROM a\nARG D\nCOPY $D /d\n", Options{}, []string{"src"}, false},
		{"build arg beats the default", "ARG D=src\nFROM a\nARG D\nCOPY ${D}/x /d\n", Options{BuildArgs: map[string]string{"D": "lib"}}, []string{"lib/x"}, false},
		{"stage ARG default", "FROM a\nARG D=${E:-conf}\nCOPY $D /d\n", Options{}, []string{"conf"}, true},
		{"stage ARG default from scratch", "FROM scratch\nARG D=${E:-conf}\nCOPY $D /d\n", Options{}, []string{"conf"}, false},
		{"ENV is known", "FROM a\nENV D=src\nCOPY $D /d\n", Options{}, []string{"src"}, false},
		{"ENV from an image variable", "FROM a\nENV D=$HOME/src\nCOPY $D /d\n", Options{}, []string{"src"}, true},
		{"a global ARG not redeclared is unset", "ARG D=src\nFROM scratch\nCOPY ${D}x /d\n", Options{}, []string{"x"}, false},
		{"unknown variable may be the image's", "FROM a\nCOPY $GOPATH/x /d\n", Options{}, []string{"x"}, true},
		{"ARG inherited from the parent stage", "FROM scratch AS p\nARG D=src\nFROM p\nCOPY $D /d\n", Options{}, []string{"src"}, false},
		{"remote add", "FROM a\nADD https://example.com/f.tgz /f.tgz\n", Options{}, nil, false},
		{"absolute and dot sources", "FROM a\nCOPY /abs ./rel . /dst\n", Options{}, []string{"abs", "rel", "."}, false},
		{"escape directive", "# escape=`\nFROM a\nCOPY x `\n  y C:\\dst\n", Options{}, []string{"x", "y"}, false},
		{"only stages the target needs", "FROM a AS one\nCOPY one.txt /\nFROM a AS two\nCOPY two.txt /\nFROM two AS three\nCOPY --from=one /one.txt /\n", Options{Target: "two"}, []string{"two.txt"}, false},
		{"the last stage by default", "FROM a AS one\nCOPY one.txt /\nFROM a\nCOPY --from=one /one.txt /\nCOPY last.txt /\n", Options{}, []string{"one.txt", "last.txt"}, false},
		{"ONBUILD of the parent stage", "FROM a AS p\nONBUILD COPY later /later\nCOPY now /now\nFROM p\n", Options{}, []string{"now", "later"}, false},
		{"ONBUILD of the built stage does not run", "FROM a\nONBUILD COPY later /later\n", Options{}, nil, false},
		{"custom frontend", "# syntax=example.com/my/frontend:1\nFROM a\nCOPY x /x\n", Options{}, []string{"x"}, true},
		{"dockerfile frontend", "# syntax=docker/dockerfile:1.7\nFROM a\nCOPY x /x\n", Options{}, []string{"x"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Read([]byte(c.dockerfile), c.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.SourcePaths(); !reflect.DeepEqual(got, c.want) || (s.Whole != "") != c.whole {
				t.Errorf("SourcePaths = %q, Whole = %q; want %q, whole %v", got, s.Whole, c.want, c.whole)
			}
		})
	}
}

func TestReadImages(t *testing.T) {
	df := "# syntax=docker/dockerfile:1.7\n# check=skip=all\nARG BASE=debian\nARG TAG\nARG GO\nFROM --platform=$BUILDPLATFORM golang:${GO:-1.22} AS build\nFROM ${BASE}:${TAG:-12} AS base\nFROM build AS again\nCOPY --from=evil /x /x\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\nCOPY --from=docker.io/library/alpine:3 /c /c\nRUN --mount=type=bind,from=ghcr.io/x/y:1,target=/y ls\nRUN --mount=type=cache,target=/c ls\n"
	s, err := Read([]byte(df), Options{BuildArgs: map[string]string{"TAG": "bookworm"}, Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Syntax != (Directive{Value: "docker/dockerfile:1.7", Line: 1}) {
		t.Errorf("Syntax = %+v", s.Syntax)
	}
	type use struct {
		Ref, Use  string
		Line      int
		Reachable bool
	}
	var got []use
	for _, img := range s.ExternalImages(false) {
		got = append(got, use{img.Ref, img.Use, img.Line, img.Reachable})
	}
	want := []use{
		{"debian:bookworm", "FROM", 7, false},
		{"docker.io/library/alpine:3", "COPY --from", 13, true},
		{"evil", "COPY --from", 9, false},
		{"ghcr.io/x/y:1", "RUN --mount from", 14, true},
		{"golang:1.22", "FROM", 6, true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ExternalImages =\n%+v\nwant\n%+v", got, want)
	}
	if n := len(s.ExternalImages(true)); n != 3 {
		t.Errorf("%d reachable images, want 3", n)
	}
}

// A stage named in FROM ... AS and read through COPY --from is a stage, and
// the image it is built from is named (issue 9's policy bypass).
func TestReadStageImageThroughCopyFrom(t *testing.T) {
	s, err := Read([]byte("FROM evil.example/x AS t\nFROM scratch\nCOPY --from=t /x /x\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	imgs := s.ExternalImages(true)
	if len(imgs) != 1 || imgs[0].Ref != "evil.example/x" || imgs[0].Line != 1 {
		t.Errorf("ExternalImages = %+v", imgs)
	}
}

func TestReadPlatformArgs(t *testing.T) {
	s, err := Read([]byte("ARG TARGETARCH\nFROM base-$TARGETARCH AS b\nFROM scratch\nARG TARGETOS\nCOPY $TARGETOS/x /x\nCOPY --from=b / /\n"), Options{Platform: "linux/arm64/v8"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Images[0].Ref != "base-arm64" || !reflect.DeepEqual(s.SourcePaths(), []string{"linux/x"}) {
		t.Errorf("Images = %+v, Sources = %q", s.Images, s.SourcePaths())
	}
}

func TestReadErrors(t *testing.T) {
	for _, c := range []struct {
		name, dockerfile, target string
		line                     int
		msg                      string
	}{
		{"unknown instruction", "FROM a\n\nFOO bar\n", "", 3, "unknown instruction"},
		{"no FROM", "# c\nCOPY a /a\n", "", 2, "no build stage"},
		{"blank base", "ARG X\nFROM $X\n", "", 2, "should not be blank"},
		{"unknown target", "FROM a AS x\n", "y", 0, `target stage "y" could not be found`},
		{"bad stage index", "FROM a\nCOPY --from=3 /a /a\n", "", 2, "invalid stage index 3"},
		{"variable in --from", "FROM a\nCOPY --from=$X /a /a\n", "", 2, "variable expansion is not supported"},
		{"bad mount", "FROM a\nRUN --mount=type=nope ls\n", "", 2, "unsupported mount type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read([]byte(c.dockerfile), Options{Target: c.target})
			var e *Error
			if !errors.As(err, &e) || e.Line != c.line || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v (%#v), want line %d and %q", err, e, c.line, c.msg)
			}
		})
	}
}

// TestReadNamedContexts: a FROM, a stage name, COPY --from and RUN --mount
// from that name a named context read it (a directory's paths, an image's
// reference) instead of an image; stages and stage indexes win.
func TestReadNamedContexts(t *testing.T) {
	ctxs := map[string]string{"shared": "/ws/shared", "tools": "/ws/tools", "base": "docker-image://example.com/base:1", "img": "docker-image://example.com/img:2", "stage": "/ws/stage"}
	df := "FROM base AS b\n" +
		"FROM docker.io/library/shared:latest AS s\n" +
		"FROM alpine AS stage\nCOPY never.txt /\n" +
		"FROM b\n" +
		"COPY --from=shared lib/ /lib/\n" +
		"COPY --from=s /x /x\n" +
		"COPY --from=img /bin/tool /tool\n" +
		"COPY --from=stage /y /y\n" +
		"RUN --mount=type=bind,from=tools,source=bin,target=/t --mount=type=cache,target=/c make\n" +
		"COPY main.txt /\n"
	s, err := Read([]byte(df), Options{NamedContexts: ctxs})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.SourcePaths(); !reflect.DeepEqual(got, []string{"main.txt"}) {
		t.Errorf("main context: %q", got)
	}
	for name, want := range map[string][]string{"shared": {".", "lib"}, "tools": {"bin"}, "stage": {"."}} {
		if got := s.ContextSourcePaths(name); !reflect.DeepEqual(got, want) {
			t.Errorf("context %s: %q, want %q", name, got, want)
		}
	}
	var refs []string
	for _, img := range s.ExternalImages(true) {
		refs = append(refs, img.Ref+" "+img.Context)
	}
	if want := []string{"example.com/base:1 base", "example.com/img:2 img"}; !reflect.DeepEqual(refs, want) {
		t.Errorf("images: %q, want %q (alpine's stage is replaced by a context)", refs, want)
	}
	// Without named contexts those names are images.
	s, err = Read([]byte(df), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.ExternalImages(true)); n != 6 {
		t.Errorf("%d images without named contexts: %+v", n, s.ExternalImages(true))
	}
}
