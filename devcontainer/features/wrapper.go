package features

import "strings"

// WrapperFile and EnvFileName are the generated files of a feature's staging
// directory.
const (
	WrapperFile    = "devcontainer-features-install.sh"
	EnvFileName    = "devcontainer-features.env"
	BuiltinEnvFile = "devcontainer-features.builtin.env"
)

// WrapperScript is the text of devcontainer-features-install.sh, byte for
// byte as the reference generates it: banner, error trap, sourcing of the
// built-in and option env files with `set -a`, then ./install.sh. idForBanner
// is the OCI reference without version, or "Unknown" (Ref.WithoutVersionOrUnknown);
// name falls back to "Unknown". envLines are the option lines (EnvLines).
func WrapperScript(m *Metadata, name, idForBanner string, envLines []string) string {
	esc := func(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }
	if name == "" {
		name = "Unknown"
	}
	id := esc(idForBanner)
	name = esc(name)
	description := esc(m.Description)
	version := esc(m.Version)
	documentation := esc(m.DocumentationURL)
	indented := make([]string, len(envLines))
	for i, l := range envLines {
		indented[i] = "    " + l
	}
	options := esc(strings.Join(indented, "\n"))

	warning := ""
	if m.Deprecated {
		warning += `(!) WARNING: Using the deprecated Feature "` + esc(m.ID) + `". This Feature will no longer receive any further updates/support.` + "\n"
	}
	if len(m.LegacyIDs) > 0 && m.CurrentID != "" && m.ID != m.CurrentID {
		warning += `(!) WARNING: This feature has been renamed. Please update the reference in devcontainer.json to "` + esc(m.CurrentID) + `".`
	}
	echoWarning := ""
	if warning != "" {
		echoWarning = "echo '" + warning + "'"
	}
	troubleshooting := ""
	if documentation != "" {
		troubleshooting = " Look at the documentation at " + documentation + " for help troubleshooting this error."
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\nset -e\n\non_exit () {\n\t[ $? -eq 0 ] && exit\n\techo 'ERROR: Feature \"" + name + "\" (" + id + ") failed to install!" + troubleshooting + "'\n}\n\ntrap on_exit EXIT\n\n")
	b.WriteString("echo ===========================================================================\n")
	b.WriteString(echoWarning + "\n")
	b.WriteString("echo 'Feature       : " + name + "'\n")
	b.WriteString("echo 'Description   : " + description + "'\n")
	b.WriteString("echo 'Id            : " + id + "'\n")
	b.WriteString("echo 'Version       : " + version + "'\n")
	b.WriteString("echo 'Documentation : " + documentation + "'\n")
	b.WriteString("echo 'Options       :'\n")
	b.WriteString("echo '" + options + "'\n")
	b.WriteString("echo ===========================================================================\n\n")
	b.WriteString("set -a\n. ../devcontainer-features.builtin.env\n. ./devcontainer-features.env\nset +a\n\nchmod +x ./install.sh\n./install.sh\n")
	return b.String()
}
