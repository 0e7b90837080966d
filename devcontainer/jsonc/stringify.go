package jsonc

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Stringify returns v as JavaScript's JSON.stringify(v) would: compact, keys
// in object order, only '"', '\\' and control characters escaped.
func Stringify(v Value) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v Value) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeString(b, t)
	case Number:
		b.WriteString(FormatNumber(t.Float()))
	case float64:
		b.WriteString(FormatNumber(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case *Object:
		if t == nil {
			b.WriteString("null")
			return
		}
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeValue(b, t.vals[k])
		}
		b.WriteByte('}')
	case []Value:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, e)
		}
		b.WriteByte(']')
	default:
		b.WriteString("null")
	}
}

// writeString quotes s like JSON.stringify: '"' and '\\' escaped, \b \f \n \r
// \t short forms, other control characters as \u00XX, lone surrogates (invalid
// UTF-8 here) as \ufffd's escape; everything else raw.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// FormatNumber formats f as JavaScript's Number.prototype.toString does.
func FormatNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	if f == 0 {
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes at least two exponent digits ("1e-07"); JavaScript does not.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		digits := strings.TrimLeft(exp[1:], "0")
		if digits == "" {
			digits = "0"
		}
		return mant + "e" + string(sign) + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// StringifyIndent returns v as JavaScript's JSON.stringify(v, null, indent)
// would: one member per line, `"key": value`, empty objects and arrays as
// {} and [].
func StringifyIndent(v Value, indent string) string {
	var b strings.Builder
	writeIndented(&b, v, indent, "")
	return b.String()
}

func writeIndented(b *strings.Builder, v Value, indent, cur string) {
	next := cur + indent
	switch t := v.(type) {
	case *Object:
		if t == nil || len(t.keys) == 0 {
			writeValue(b, v)
			return
		}
		b.WriteString("{\n")
		for i, k := range t.keys {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(next)
			writeString(b, k)
			b.WriteString(": ")
			writeIndented(b, t.vals[k], indent, next)
		}
		b.WriteString("\n" + cur + "}")
	case []Value:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range t {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(next)
			writeIndented(b, e, indent, next)
		}
		b.WriteString("\n" + cur + "]")
	case []string:
		vals := make([]Value, len(t))
		for i, s := range t {
			vals[i] = s
		}
		writeIndented(b, vals, indent, cur)
	default:
		writeValue(b, v)
	}
}
