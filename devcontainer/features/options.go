package features

import (
	"regexp"
	"strings"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

var (
	unsafeCharRE   = regexp.MustCompile(`[^A-Za-z0-9_]`)
	leadingDigitRE = regexp.MustCompile(`^[0-9_]+`)
)

// SafeID turns an option name into an environment variable name as the
// reference's getSafeId: every character outside [A-Za-z0-9_] becomes '_'
// (per UTF-16 code unit, as JavaScript's regex sees it), a leading run of
// digits and underscores becomes one '_', then the result is upper-cased.
func SafeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 && unsafeCharRE.MatchString(string(r)):
			b.WriteByte('_')
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xFFFF:
			b.WriteString("__") // a surrogate pair is two code units
		default:
			b.WriteByte('_')
		}
	}
	out := leadingDigitRE.ReplaceAllString(b.String(), "_")
	return strings.ToUpper(out)
}

// ValueObject is the reference's getFeatureValueObject: the option values a
// feature is installed with. An object value is merged over the declared
// defaults; a string, boolean or number becomes the `version` option when the
// feature declares one, else only the defaults count. Defaults come from
// options that have a `default` key, in declaration order; user keys the
// feature does not declare are kept.
func ValueObject(m *Metadata, value jsonc.Value) *jsonc.Object {
	defaults := jsonc.NewObject()
	hasVersion := false
	for _, o := range m.Options {
		if o.HasDefault {
			defaults.Set(o.Name, o.Default)
		}
		if o.Name == "version" {
			hasVersion = true
		}
	}
	switch t := value.(type) {
	case *jsonc.Object:
		return jsonc.Spread(defaults, t)
	case nil:
		// typeof null === 'object'; {...defaults, ...null}.
		return defaults
	}
	if !hasVersion {
		return defaults
	}
	out := jsonc.Spread(defaults)
	out.Set("version", value)
	return out
}

// MainValue is the reference's getFeatureMainValue, used for the legacy
// buildArg line.
func MainValue(m *Metadata, value jsonc.Value) jsonc.Value {
	var versionOpt *Option
	for i := range m.Options {
		if m.Options[i].Name == "version" {
			versionOpt = &m.Options[i]
		}
	}
	if versionOpt == nil {
		return jsonc.Truthy(value)
	}
	if o, isObj := value.(*jsonc.Object); isObj {
		v, ok := o.Get("version")
		if !ok {
			return versionOpt.Default
		}
		return v
	}
	return value
}

// EnvLines are the lines of a feature's devcontainer-features.env: one
// NAME="value" per option value (values are not escaped, as in the
// reference; the file is sourced by sh), then the legacy buildArg line.
func EnvLines(m *Metadata, value jsonc.Value) []string {
	values := ValueObject(m, value)
	var lines []string
	for _, k := range values.Keys() {
		v, _ := values.Get(k)
		lines = append(lines, SafeID(k)+`="`+jsonc.ToString(v)+`"`)
	}
	if m.BuildArg != "" {
		lines = append(lines, m.BuildArg+"="+jsonc.ToString(MainValue(m, value)))
	}
	return lines
}

// EnvFile is the content of devcontainer-features.env: the lines joined
// with "\n" and no trailing newline.
func EnvFile(lines []string) string { return strings.Join(lines, "\n") }
