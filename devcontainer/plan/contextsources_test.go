package plan

import (
	"bytes"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/internal/dockerfile"
)

// sourcesOf reads a Dockerfile for build b and lists what the context
// digest hashes.
func sourcesOf(t *testing.T, df string, b *devcontainer.Build) ([]string, bool) {
	t.Helper()
	if b == nil {
		b = &devcontainer.Build{}
	}
	s, err := ReadDockerfile([]byte(df), b, "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	return contextSources(s, "")
}

// TestContextSources: the cases of issue 9 that the former scanner got
// wrong are marked; the rest it got right and still must.
func TestContextSources(t *testing.T) {
	for _, c := range []struct {
		name, dockerfile string
		build            *devcontainer.Build
		want             []string
		whole            bool
	}{
		{"copy and add", "FROM a\nCOPY src/ /src/\nADD --chown=1:1 b.tar c /x/\n", nil, []string{"src", "b.tar", "c"}, false},
		{"json form", `FROM a` + "\n" + `COPY ["a b.txt", "./c/", "/dst/"]` + "\n", nil, []string{"a b.txt", "c"}, false},
		{"from another stage or image", "FROM a AS b\nCOPY --from=b /x /y\nCOPY --from=busybox /bin/sh /sh\n", nil, nil, false},
		{"continuation and comments", "FROM a\nCOPY \\\n  # a comment\n  one \\\n  two /dst\n", nil, []string{"one", "two"}, false},
		{"escape directive", "# escape=`\nFROM a\nCOPY x `\n  y C:\\dst\n", nil, []string{"x", "y"}, false},
		{"remote add", "FROM a\nADD https://example.com/f.tgz /f.tgz\n", nil, nil, false},
		{"run bind mounts", "FROM a AS b\nFROM a\nRUN --mount=type=bind,source=tools,target=/t --mount=type=cache,target=/c make\nRUN --mount=target=/w ls /w\nRUN --mount=type=bind,from=b,target=/b ls\n", nil, []string{"tools", "."}, false},
		{"heredoc bodies are not instructions", "FROM a\nCOPY <<EOF /etc/x\nCOPY not/a/source /y\nEOF\nRUN <<EOT\nADD fake /z\nEOT\n", nil, nil, false},
		{"absolute and dot sources", "FROM a\nCOPY /abs ./rel . /dst\n", nil, []string{"abs", "rel", "."}, false},
		{"a variable BuildKit cannot know here", "FROM a\nCOPY $GOPATH/src /d\n", nil, nil, true},
		// Issue 9: the former scanner skipped every line after these.
		{"quoted << (issue 9)", "FROM a\nRUN echo \"a <<b\"\nCOPY data.txt /data.txt\n", nil, []string{"data.txt"}, false},
		{"here-string (issue 9)", "FROM a\nRUN tr a-z A-Z <<<word\nCOPY data.txt /data.txt\n", nil, []string{"data.txt"}, false},
		// The former scanner hashed the whole context for any "$".
		{"ARG-expanded source", "ARG DIR=src\nFROM a\nARG DIR\nARG FILE=main.go\nCOPY ${DIR}/${FILE} /d/\n", nil, []string{"src/main.go"}, false},
		{"build arg", "FROM a\nARG DIR=src\nCOPY $DIR /d\n", &devcontainer.Build{Args: []devcontainer.EnvVar{{Name: "DIR", Value: "lib"}}}, []string{"lib"}, false},
		{"build.options --build-arg follows build.args", "FROM a\nARG DIR\nCOPY $DIR /d\n", &devcontainer.Build{Args: []devcontainer.EnvVar{{Name: "DIR", Value: "lib"}}, Options: devcontainer.BuildOptions{BuildArgs: []devcontainer.EnvVar{{Name: "DIR", Value: "opt"}}}}, []string{"opt"}, false},
		{"mount source from an ARG", "FROM a\nARG T=tools\nRUN --mount=type=bind,source=$T,target=/t make\n", nil, []string{"tools"}, false},
		// Only what the target needs (the former scanner read every stage).
		{"target", "FROM a AS dev\nCOPY dev.txt /\nFROM dev AS prod\nCOPY prod.txt /\n", &devcontainer.Build{Target: "dev"}, []string{"dev.txt"}, false},
		{"ONBUILD of a parent stage", "FROM a AS p\nONBUILD COPY later /later\nFROM p\n", nil, []string{"later"}, false},
		{"COPY --parents **", "FROM a\nCOPY --parents src/**/*.go /d/\n", nil, []string{"src"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, whole := sourcesOf(t, c.dockerfile, c.build)
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

// buildkitContextReads is the oracle of FuzzContextSourcesCoverBuildKit:
// the context paths BuildKit's own parse yields for COPY and ADD without
// --from (heredoc sources are not paths there), expanded by BuildKit's
// shell lexer, in every stage; paths that hold a variable are left out
// (what they read depends on the environment). ok is false when BuildKit
// refuses the Dockerfile.
func buildkitContextReads(df string) (paths []string, ok bool) {
	res, err := parser.Parse(bytes.NewReader([]byte(df)))
	if err != nil {
		return nil, false
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, false
	}
	lex := shell.NewLex(res.EscapeToken)
	for _, st := range stages {
		for _, cmd := range st.Commands {
			var srcs []string
			add := false
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From == "" {
					srcs = c.SourcePaths
				}
			case *instructions.AddCommand:
				srcs, add = c.SourcePaths, true
			}
			for _, s := range srcs {
				if strings.Contains(s, "$") {
					continue
				}
				w, _, err := lex.ProcessWord(s, shell.EnvsFromSlice(nil))
				if err != nil || (add && (strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://"))) {
					continue
				}
				p := path.Join("/", w)[1:]
				if p == "" {
					p = "."
				}
				paths = append(paths, p)
			}
		}
	}
	return paths, true
}

// FuzzContextSourcesCoverBuildKit: for any Dockerfile, every context path
// BuildKit's parse yields for a COPY or ADD is selected by the sources the
// context digest hashes, and no source leaves the context.
func FuzzContextSourcesCoverBuildKit(f *testing.F) {
	for _, s := range []string{
		"FROM a\nCOPY src/ /src/\n",
		"FROM a\nRUN echo \"a <<b\"\nCOPY data.txt /d\n",
		"FROM a\nRUN cat <<<word\nADD data.txt /d\n",
		"# escape=`\nFROM a\nCOPY x `\n  y /d\n",
		"FROM a AS b\nCOPY --from=b /x /y\nRUN --mount=type=bind,source=../../etc,target=/e ls\n",
		"ARG A=${B:-c}\nFROM $A\nCOPY [\"a\", \"b\"]\nRUN <<EOF\nx\nEOF\nCOPY y /z\n",
		"FROM a\nCOPY <<EOF <<-EOT data.txt /d/\nx\nEOF\n\ty\n\tEOT\nCOPY after /a\n",
		"FROM a\nCOPY --parents ./src/**/*.go '/d e/' \"q\\\"x\" /d/\n",
		"FROM a\nONBUILD ADD https://x/y /z\nCOPY ../../x ./y/../z /w\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, df string) {
		want, ok := buildkitContextReads(df)
		if !ok {
			return
		}
		s, err := dockerfile.Read([]byte(df), dockerfile.Options{AllStages: true, Platform: "linux/amd64"})
		if err != nil {
			return // refused later by BuildKit too (e.g. a blank FROM): no key
		}
		sources, whole := contextSources(s, "")
		for _, src := range sources {
			if src != "." && (strings.HasPrefix(src, "/") || src == ".." || strings.HasPrefix(src, "../")) {
				t.Errorf("source %q escapes the context", src)
			}
		}
		if whole {
			return
		}
		for _, p := range want {
			if !selected(p, sources) {
				t.Errorf("BuildKit reads %q; the context digest hashes only %q", p, sources)
			}
		}
	})
}
