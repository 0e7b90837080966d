package devcontainer

import (
	"regexp"
	"strconv"
)

var identRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// FieldKey appends an object key to a field path the way errors show it:
// `build.args` for identifiers, `features["./x"]` otherwise.
func FieldKey(parent, key string) string {
	if identRE.MatchString(key) {
		if parent == "" {
			return key
		}
		return parent + "." + key
	}
	return parent + "[" + strconv.Quote(key) + "]"
}

// FieldIndex appends an array index to a field path: `runArgs[2]`.
func FieldIndex(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
