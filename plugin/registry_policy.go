package plugin

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/devcache/devcache/devcontainer"
)

// dockerfileImages lists the external images of a Dockerfile.
func dockerfileImages(data []byte, args []devcontainer.EnvVar) ([]string, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				env[kv.Key] = *kv.Value
			}
		}
	}
	for _, a := range args {
		env[a.Name] = a.Value
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	lex := shell.NewLex(res.EscapeToken)
	getter := shell.EnvsFromSlice(envList)
	stageNames := map[string]bool{}
	var out []string
	add := func(ref string) {
		if ref == "" || strings.EqualFold(ref, "scratch") || stageNames[strings.ToLower(ref)] {
			return
		}
		out = append(out, ref)
	}
	for i, st := range stages {
		base, _, err := lex.ProcessWord(st.BaseName, getter)
		if err != nil {
			return nil, fmt.Errorf("FROM %s: %w", st.BaseName, err)
		}
		add(base)
		for _, c := range st.Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" {
				from := cp.From
				if _, isIndex := stageIndex(from, i); !isIndex {
					add(from)
				}
			}
		}
		if st.Name != "" {
			stageNames[strings.ToLower(st.Name)] = true
		}
	}
	return out, nil
}

// stageIndex tells whether s is the number of an earlier stage.
func stageIndex(s string, current int) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
		return 0, false
	}
	return n, n < current
}
