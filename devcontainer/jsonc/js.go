package jsonc

import "strings"

// Truthy reports whether v is truthy in JavaScript: false for null, false,
// "", 0 and NaN; true for everything else, including empty objects and
// arrays.
func Truthy(v Value) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case Number:
		f := t.Float()
		return f != 0 && f == f
	case float64:
		return t != 0 && t == t
	case int:
		return t != 0
	case *Object:
		return t != nil
	}
	return true
}

// TypeOf returns JavaScript's typeof for a value: "object" for null, objects
// and arrays, "string", "boolean", "number".
func TypeOf(v Value) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case string:
		return "string"
	case Number, float64, int:
		return "number"
	}
	return "object"
}

// ToString converts v as JavaScript's String(v) (and template literals) do:
// null → "null", numbers in JS format, arrays joined with "," (null elements
// as ""), objects as "[object Object]".
func ToString(v Value) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		if t {
			return "true"
		}
		return "false"
	case string:
		return t
	case Number:
		return FormatNumber(t.Float())
	case float64:
		return FormatNumber(t)
	case int:
		return FormatNumber(float64(t))
	case []Value:
		parts := make([]string, len(t))
		for i, e := range t {
			if e != nil {
				parts[i] = ToString(e)
			}
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// Spread returns a new object with the keys of each of objs in turn, as
// JavaScript's {...a, ...b} does: a later value replaces an earlier one and
// keeps the earlier key's position. Nil objects are skipped.
func Spread(objs ...*Object) *Object {
	out := NewObject()
	for _, o := range objs {
		for _, k := range o.Keys() {
			v, _ := o.Get(k)
			out.Set(k, v)
		}
	}
	return out
}
