package dockerfile

import (
	"strings"
	"testing"
)

// FuzzRead: Read never panics, and what it returns is consistent: the
// target is a stage, reads come only from stages the target needs, and no
// source leaves the context.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"FROM a AS b\nCOPY x /x\nFROM b\nCOPY --from=b /y /y\n",
		"ARG A=${B:-c}\nFROM $A AS s\nONBUILD COPY o /o\nFROM s\nRUN --mount=type=bind,source=../x,target=/x ls\n",
		"# syntax=docker/dockerfile:1\nFROM scratch\nARG D=d\nENV E=$D/e\nCOPY $E <<EOF /z/\nx\nEOF\n",
		"FROM a\nRUN echo \"<<b\" <<<w\nADD https://x/y ./z /w\n",
	} {
		f.Add(s, "")
		f.Add(s, "b")
	}
	f.Fuzz(func(t *testing.T, df, target string) {
		s, err := Read([]byte(df), Options{Target: target, Platform: "linux/arm/v7", BuildArgs: map[string]string{"A": "x"}})
		if err != nil {
			return
		}
		if s.Target < 0 || s.Target >= len(s.Stages) || !s.Stages[s.Target].Reachable {
			t.Fatalf("target %d of %d stages is not reachable", s.Target, len(s.Stages))
		}
		for _, src := range s.Sources {
			if !s.Stages[src.Stage].Reachable {
				t.Errorf("source %q of unreachable stage %d", src.Path, src.Stage)
			}
			if src.Path != "." && (src.Path == "" || strings.HasPrefix(src.Path, "/") || src.Path == ".." || strings.HasPrefix(src.Path, "../")) {
				t.Errorf("source %q leaves the context", src.Path)
			}
		}
	})
}
