package jsonc

import (
	"bytes"
	"fmt"

	"github.com/tailscale/hujson"
)

// SyntaxError is a JSONC syntax error with its 1-based source position.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// Parse parses JSONC text: JSON plus // and /* */ comments and trailing
// commas. A duplicate key keeps its first position and takes the last value,
// as in JavaScript. A UTF-8 byte order mark is ignored.
func Parse(data []byte) (Value, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	v, err := hujson.Parse(data)
	if err != nil {
		return nil, toSyntaxError(err)
	}
	return convert(v, data)
}

func toSyntaxError(err error) error {
	var line, col int
	var msg string
	s := err.Error()
	if n, _ := fmt.Sscanf(s, "hujson: line %d, column %d:", &line, &col); n == 2 {
		if i := bytes.IndexByte([]byte(s), ':'); i >= 0 {
			rest := s[i+1:]
			if j := bytes.IndexByte([]byte(rest), ':'); j >= 0 {
				msg = trimSpace(rest[j+1:])
			}
		}
		msg = trimPrefix(msg, "hujson: ")
		return &SyntaxError{Line: line, Column: col, Msg: msg}
	}
	return &SyntaxError{Line: 1, Column: 1, Msg: s}
}

func trimSpace(s string) string { return string(bytes.TrimSpace([]byte(s))) }

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func convert(v hujson.Value, src []byte) (Value, error) {
	switch t := v.Value.(type) {
	case *hujson.Object:
		o := NewObject()
		for _, m := range t.Members {
			name, ok := m.Name.Value.(hujson.Literal)
			if !ok || name.Kind() != '"' {
				return nil, fmt.Errorf("object key is not a string")
			}
			val, err := convert(m.Value, src)
			if err != nil {
				return nil, err
			}
			key := name.String()
			o.Set(key, val)
			line := 1 + bytes.Count(src[:min(m.Name.StartOffset, len(src))], []byte("\n"))
			o.setLine(key, line)
		}
		return o, nil
	case *hujson.Array:
		a := make([]Value, 0, len(t.Elements))
		for _, e := range t.Elements {
			val, err := convert(e, src)
			if err != nil {
				return nil, err
			}
			a = append(a, val)
		}
		return a, nil
	case hujson.Literal:
		switch t.Kind() {
		case 'n':
			return nil, nil
		case 't', 'f':
			return t.Bool(), nil
		case '"':
			return t.String(), nil
		case '0':
			return Number(string(t)), nil
		}
		return nil, fmt.Errorf("invalid literal %q", string(t))
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v.Value)
}
