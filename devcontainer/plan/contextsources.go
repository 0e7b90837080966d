package plan

import (
	"encoding/json"
	"path"
	"regexp"
	"strings"
)

// contextSources lists the build-context paths (patterns, relative to the
// context, slash-separated) that a Dockerfile reads: the sources of COPY and
// ADD without --from, and the sources of RUN --mount=type=bind without
// from. A source of "." means the whole context.
//
// Every stage is scanned, not only the target's: a file a skipped stage
// reads can only make the key change too often, never too rarely. When a
// source cannot be known without evaluating the Dockerfile (it contains a
// variable), whole is true and the whole context must be hashed.
//
// ADD with a URL or git source is not a context file: its content cannot be
// pinned by the key (ADD --checksum pins it in the Dockerfile text).
func contextSources(dockerfile string) (sources []string, whole bool) {
	escape := byte('\\')
	if m := escapeDirectiveRE.FindStringSubmatch(dockerfile); m != nil {
		escape = m[1][0]
	}
	for _, ins := range logicalLines(dockerfile, escape) {
		fields := strings.Fields(ins)
		if len(fields) == 0 {
			continue
		}
		cmd := strings.ToUpper(fields[0])
		if cmd == "ONBUILD" && len(fields) > 1 {
			// ONBUILD COPY runs in the child's context: conservative.
			cmd = strings.ToUpper(fields[1])
			ins = strings.TrimSpace(ins[strings.Index(ins, fields[1]):])
		}
		rest := strings.TrimSpace(ins[len(strings.Fields(ins)[0]):])
		switch cmd {
		case "COPY", "ADD":
			flags, args := splitFlags(rest)
			if _, ok := flags["from"]; ok {
				continue
			}
			srcs, ok := copySources(args)
			if !ok {
				whole = true
				continue
			}
			for _, s := range srcs {
				if cmd == "ADD" && isRemoteSource(s) {
					continue
				}
				if strings.Contains(s, "$") {
					whole = true
					continue
				}
				sources = append(sources, cleanSource(s))
			}
		case "RUN":
			for _, m := range mountFlagRE.FindAllStringSubmatch(rest, -1) {
				src, ok := bindMountSource(m[1])
				if !ok {
					continue
				}
				if strings.Contains(src, "$") {
					whole = true
					continue
				}
				sources = append(sources, cleanSource(src))
			}
		}
	}
	return sources, whole
}

var (
	escapeDirectiveRE = regexp.MustCompile(`(?mi)\A(?:[ \t]*#[ \t]*[a-z]+[ \t]*=.*\n)*[ \t]*#[ \t]*escape[ \t]*=[ \t]*([\\` + "`" + `])`)
	mountFlagRE       = regexp.MustCompile(`--mount=("[^"]*"|\S+)`)
	heredocRE         = regexp.MustCompile(`<<-?\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?`)
)

// logicalLines joins continuation lines, drops comments and blank lines, and
// skips heredoc bodies.
func logicalLines(text string, escape byte) []string {
	var out []string
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var cur strings.Builder
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue // also inside a continuation, as BuildKit's parser
		}
		if strings.HasSuffix(t, string(escape)) {
			cur.WriteString(strings.TrimSuffix(t, string(escape)))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(t)
		ins := cur.String()
		cur.Reset()
		out = append(out, ins)
		// Heredoc bodies are not instructions.
		for _, m := range heredocRE.FindAllStringSubmatch(ins, -1) {
			for i+1 < len(lines) {
				i++
				if strings.TrimSpace(lines[i]) == m[1] {
					break
				}
			}
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// splitFlags separates leading --name[=value] flags from the arguments.
func splitFlags(rest string) (map[string]string, string) {
	flags := map[string]string{}
	for strings.HasPrefix(rest, "--") {
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		k, v, _ := strings.Cut(rest[2:end], "=")
		flags[strings.ToLower(k)] = v
		rest = strings.TrimSpace(rest[end:])
	}
	return flags, rest
}

// copySources returns the sources of COPY/ADD arguments (all but the
// destination), in JSON or shell form; heredoc sources are skipped.
func copySources(args string) ([]string, bool) {
	var words []string
	if strings.HasPrefix(args, "[") {
		if err := json.Unmarshal([]byte(args), &words); err != nil {
			return nil, false
		}
	} else {
		for _, w := range strings.Fields(args) {
			words = append(words, strings.Trim(w, `"'`))
		}
	}
	if len(words) < 2 {
		return nil, len(words) == 0
	}
	var srcs []string
	for _, w := range words[:len(words)-1] {
		if strings.HasPrefix(w, "<<") {
			continue
		}
		srcs = append(srcs, w)
	}
	return srcs, true
}

// bindMountSource reads a RUN --mount value: the context source of a bind
// mount (default: the whole context), or false for other mounts.
func bindMountSource(v string) (string, bool) {
	v = strings.Trim(v, `"`)
	typ, src := "bind", "."
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "type":
			typ = strings.ToLower(val)
		case "from":
			return "", false
		case "source", "src":
			src = val
		}
	}
	return src, typ == "bind"
}

func isRemoteSource(s string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return strings.Contains(s, ".git#")
}

// cleanSource makes a source relative to the context root ("." for all of
// it).
func cleanSource(s string) string {
	s = path.Clean("/" + s)
	if s == "/" {
		return "."
	}
	return s[1:]
}
