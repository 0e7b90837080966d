package devcontainer

import (
	"regexp"
	"strings"
)

// The reference CLI does not parse Dockerfiles with BuildKit to find the
// base image and user: it uses regular expressions (dockerfileUtils.ts).
// These are ports of them, with the same blind spots, because the users and
// base metadata they find end up in the image.

var (
	fromLineStartRE = regexp.MustCompile(`(?mi)^[\t ]*FROM`)
	fromStatementRE = regexp.MustCompile(`(?mi)^\s*FROM\s+(?P<platform>--platform=\S+\s+)?(?P<image>"?[^\s]+"?)(\s+AS\s+(?P<label>[^\s]+))?`)
	argEnvUserRE    = regexp.MustCompile(`(?mi)^\s*(?P<instruction>ARG|ENV|USER)\s+(?P<name>[^\s=]+)([ =]+("(?P<value1>\S+)"|(?P<value2>\S+)))?`)
	argumentExprRE  = regexp.MustCompile(`\$\{?(?P<variable>[a-zA-Z0-9_]+)(?P<isVarExp>:(?P<option>-|\+)(?P<word>[^\}]+))?\}?`)
	quoteEndsRE     = regexp.MustCompile(`^['"]|['"]$`)
)

type dfInstruction struct {
	instruction, name, value string
	hasValue                 bool
}

type dfStage struct {
	hasFrom      bool
	image, label string
	instructions []dfInstruction
}

type dockerfileModel struct {
	preamble *dfStage
	stages   []*dfStage
	byLabel  map[string]*dfStage
}

func extractDockerfile(text string) *dockerfileModel {
	idx := fromLineStartRE.FindAllStringIndex(text, -1)
	var parts []string
	prev := 0
	for _, m := range idx {
		if m[0] == 0 {
			continue
		}
		parts = append(parts, text[prev:m[0]])
		prev = m[0]
	}
	parts = append(parts, text[prev:])
	preamble := ""
	if !(len(idx) > 0 && idx[0][0] == 0) {
		preamble, parts = parts[0], parts[1:]
	}
	d := &dockerfileModel{preamble: &dfStage{instructions: extractInstructions(preamble)}, byLabel: map[string]*dfStage{}}
	for _, s := range parts {
		st := &dfStage{hasFrom: true, instructions: extractInstructions(s)}
		if m := fromStatementRE.FindStringSubmatch(s); m != nil {
			st.image = quoteEndsRE.ReplaceAllString(m[fromStatementRE.SubexpIndex("image")], "")
			st.label = m[fromStatementRE.SubexpIndex("label")]
		} else {
			st.image = "unknown"
		}
		d.stages = append(d.stages, st)
		if st.label != "" {
			d.byLabel[st.label] = st
		}
	}
	return d
}

func extractInstructions(s string) []dfInstruction {
	var out []dfInstruction
	for _, m := range argEnvUserRE.FindAllStringSubmatch(s, -1) {
		v1, v2 := m[argEnvUserRE.SubexpIndex("value1")], m[argEnvUserRE.SubexpIndex("value2")]
		in := dfInstruction{instruction: strings.ToUpper(m[argEnvUserRE.SubexpIndex("instruction")]), name: m[argEnvUserRE.SubexpIndex("name")]}
		switch {
		case v1 != "":
			in.value, in.hasValue = v1, true
		case v2 != "":
			in.value, in.hasValue = v2, true
		}
		out = append(out, in)
	}
	return out
}

type dfContext struct {
	d        *dockerfileModel
	args     map[string]string
	baseEnv  map[string]string
	platform map[string]string
}

func newDFContext(text string, args []EnvVar, platform string, baseEnv []string) *dfContext {
	c := &dfContext{d: extractDockerfile(text), args: map[string]string{}, baseEnv: map[string]string{}, platform: platformArgs(platform)}
	for _, a := range args {
		c.args[a.Name] = a.Value
	}
	for _, e := range baseEnv {
		k, v, _ := strings.Cut(e, "=")
		c.baseEnv[k] = v
	}
	return c
}

// platformArgs are BuildKit's automatic platform args; devcache uses the
// target platform for the build platform too, so the result does not depend
// on the client's machine.
func platformArgs(platform string) map[string]string {
	parts := strings.SplitN(platform, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return map[string]string{
		"BUILDPLATFORM": platform, "BUILDOS": parts[0], "BUILDARCH": parts[1], "BUILDVARIANT": parts[2],
		"TARGETPLATFORM": platform, "TARGETOS": parts[0], "TARGETARCH": parts[1], "TARGETVARIANT": parts[2],
	}
}

func (c *dfContext) start(target string) *dfStage {
	if target != "" {
		return c.d.byLabel[target]
	}
	if len(c.d.stages) == 0 {
		return nil
	}
	return c.d.stages[len(c.d.stages)-1]
}

// DockerfileBaseImage is the reference's findBaseImage: the external image
// the target stage (the last stage when target is "") builds on, following
// FROM <stage> links, with ${VAR} expanded from preamble ARGs, build args and
// platform args.
func DockerfileBaseImage(text string, args []EnvVar, target, platform string) (string, bool) {
	c := newDFContext(text, args, platform, nil)
	c.baseEnv = map[string]string{} // not available in FROM
	seen := map[*dfStage]bool{}
	for st := c.start(target); st != nil; {
		if seen[st] {
			return "", false
		}
		seen[st] = true
		img := c.replaceVariables(st.image, c.d.preamble, len(c.d.preamble.instructions))
		next, ok := c.d.byLabel[img]
		if !ok {
			return img, true
		}
		st = next
	}
	return "", false
}

// DockerfileUser is the reference's findUserStatement: the last USER of the
// target stage or the stages it builds on, expanded; "" when there is none
// (the base image's user applies).
func DockerfileUser(text string, args []EnvVar, target, platform string, baseEnv []string) string {
	c := newDFContext(text, args, platform, baseEnv)
	seen := map[*dfStage]bool{}
	for st := c.start(target); st != nil; {
		if seen[st] {
			return ""
		}
		seen[st] = true
		for i := len(st.instructions) - 1; i >= 0; i-- {
			if st.instructions[i].instruction == "USER" {
				return c.replaceVariables(st.instructions[i].name, st, i)
			}
		}
		img := c.replaceVariables(st.image, c.d.preamble, len(c.d.preamble.instructions))
		st = c.d.byLabel[img]
	}
	return ""
}

func (c *dfContext) replaceVariables(s string, st *dfStage, before int) string {
	matches := argumentExprRE.FindAllStringSubmatchIndex(s, -1)
	out := s
	for i := len(matches) - 1; i >= 0; i-- {
		m := matches[i]
		group := func(name string) (string, bool) {
			j := argumentExprRE.SubexpIndex(name)
			if m[2*j] < 0 {
				return "", false
			}
			return s[m[2*j]:m[2*j+1]], true
		}
		variable, _ := group("variable")
		value, _ := c.findValue(variable, st, before)
		if _, isExp := group("isVarExp"); isExp {
			option, _ := group("option")
			word, _ := group("word")
			set := value != ""
			if option == "-" {
				if !set {
					value = word
				}
			} else if set {
				value = word
			}
			value = quoteEndsRE.ReplaceAllString(value, "")
		}
		out = out[:m[0]] + value + out[m[1]:]
	}
	return out
}

func (c *dfContext) findValue(variable string, st *dfStage, before int) (string, bool) {
	considerArg := true
	seen := map[*dfStage]bool{}
	for {
		if seen[st] {
			return "", false
		}
		seen[st] = true
		for i := before - 1; i >= 0; i-- {
			in := st.instructions[i]
			if in.name != variable {
				continue
			}
			_, argSet := c.args[in.name]
			if in.instruction == "USER" && considerArg && (argSet || in.hasValue) {
				// The reference's predicate matches this USER line and then
				// stops looking in the stage.
				break
			}
			if in.instruction == "ENV" {
				return c.replaceVariables(in.value, st, i), true
			}
			if in.instruction == "ARG" && considerArg {
				v, ok := c.args[in.name]
				if !ok {
					if !in.hasValue {
						continue
					}
					v = in.value
				}
				return c.replaceVariables(v, st, i), true
			}
		}
		if !st.hasFrom {
			if v, ok := c.baseEnv[variable]; ok {
				return v, true
			}
			if v, ok := c.platform[variable]; ok {
				return v, true
			}
			return "", false
		}
		img := c.replaceVariables(st.image, c.d.preamble, len(c.d.preamble.instructions))
		next, ok := c.d.byLabel[img]
		if !ok {
			next = c.d.preamble
		}
		st = next
		before = len(st.instructions)
		considerArg = st == c.d.preamble
	}
}
