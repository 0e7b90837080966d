package jsonc

import (
	"strconv"
)

// A Value is one of: nil (JSON null), bool, string, Number, *Object or []Value.
type Value = any

// Number is a JSON number kept as the text it was written with.
type Number string

// Float returns the number's float64 value (JavaScript numbers are doubles).
func (n Number) Float() float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// Object is a JSON object with JavaScript property order: integer-like keys
// ("0", "8080") first in ascending numeric order, then the other keys in the
// order they were first set. Setting an existing key keeps its position.
type Object struct {
	keys  []string
	vals  map[string]Value
	lines map[string]int
}

// NewObject returns an empty object.
func NewObject() *Object {
	return &Object{vals: map[string]Value{}}
}

// Len is the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Keys returns the keys in JavaScript property order.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return append([]string(nil), o.keys...)
}

// Get returns the value at key and whether it is present.
func (o *Object) Get(key string) (Value, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[key]
	return v, ok
}

// Has tells whether key is present.
func (o *Object) Has(key string) bool {
	_, ok := o.Get(key)
	return ok
}

// Line is the 1-based source line where key was (last) set by the parser,
// or 0 when unknown.
func (o *Object) Line(key string) int {
	if o == nil || o.lines == nil {
		return 0
	}
	return o.lines[key]
}

// Set sets key to v with JavaScript ordering semantics.
func (o *Object) Set(key string, v Value) {
	if o.vals == nil {
		o.vals = map[string]Value{}
	}
	if _, ok := o.vals[key]; ok {
		o.vals[key] = v
		return
	}
	o.vals[key] = v
	if idx, ok := arrayIndex(key); ok {
		// Integer-like keys go before every string key, in ascending order.
		pos := 0
		for pos < len(o.keys) {
			k, isIdx := arrayIndex(o.keys[pos])
			if !isIdx || k > idx {
				break
			}
			pos++
		}
		o.keys = append(o.keys, "")
		copy(o.keys[pos+1:], o.keys[pos:])
		o.keys[pos] = key
		return
	}
	o.keys = append(o.keys, key)
}

// Delete removes key.
func (o *Object) Delete(key string) {
	if o == nil {
		return
	}
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	delete(o.lines, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

func (o *Object) setLine(key string, line int) {
	if o.lines == nil {
		o.lines = map[string]int{}
	}
	o.lines[key] = line
}

// arrayIndex reports whether key is a canonical array index as JavaScript
// defines it (0 .. 2^32-2, no leading zeros, no sign).
func arrayIndex(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(key, 10, 64)
	if err != nil || n > 4294967294 {
		return 0, false
	}
	return n, true
}

// Clone returns a deep copy of v.
func Clone(v Value) Value {
	switch t := v.(type) {
	case *Object:
		if t == nil {
			return (*Object)(nil)
		}
		c := &Object{keys: append([]string(nil), t.keys...), vals: make(map[string]Value, len(t.vals))}
		for k, x := range t.vals {
			c.vals[k] = Clone(x)
		}
		if t.lines != nil {
			c.lines = make(map[string]int, len(t.lines))
			for k, l := range t.lines {
				c.lines[k] = l
			}
		}
		return c
	case []Value:
		c := make([]Value, len(t))
		for i, x := range t {
			c[i] = Clone(x)
		}
		return c
	default:
		return v
	}
}
