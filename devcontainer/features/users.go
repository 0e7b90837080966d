package features

import (
	"strings"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// Users are the users features are installed for.
type Users struct {
	// ContainerUser is _CONTAINER_USER: the last metadata entry's
	// containerUser, else the compose service user, else the image user.
	ContainerUser string `json:"containerUser"`
	// RemoteUser is _REMOTE_USER: the last entry's remoteUser, else
	// ContainerUser.
	RemoteUser string `json:"remoteUser"`
}

// ContainerUsers is the reference's findContainerUsers over the substituted
// metadata entries [base image entries…, feature entries…, config entry].
// imageUser is the base image's (or Dockerfile's) user, "root" when empty.
func ContainerUsers(entries []*jsonc.Object, composeServiceUser, imageUser string) Users {
	last := func(key string) string {
		for i := len(entries) - 1; i >= 0; i-- {
			if v, ok := entries[i].Get(key); ok && jsonc.Truthy(v) {
				return jsonc.ToString(v)
			}
		}
		return ""
	}
	u := Users{ContainerUser: last("containerUser")}
	if u.ContainerUser == "" {
		u.ContainerUser = composeServiceUser
	}
	if u.ContainerUser == "" {
		u.ContainerUser = imageUser
	}
	u.RemoteUser = last("remoteUser")
	if u.RemoteUser == "" {
		u.RemoteUser = u.ContainerUser
	}
	return u
}

// BuiltinEnv is the devcontainer-features.builtin.env the client writes:
// _CONTAINER_USER and _REMOTE_USER lines with a trailing newline. The two
// _*_HOME lines are appended inside the image (HomeLookupCommand).
func (u Users) BuiltinEnv() string {
	return "_CONTAINER_USER=" + u.ContainerUser + "\n_REMOTE_USER=" + u.RemoteUser + "\n"
}

// HomeLookupCommand is the reference's getEntPasswdShellCommand, with its
// leading space: a shell command printing the passwd line(s) of user, via
// getent or a grep of /etc/passwd. Its 6th field is the home directory.
func HomeLookupCommand(user string) string {
	shellEscaped := strings.NewReplacer(`'`, `\'`, `\`, `\\`).Replace(user)
	grepEscaped := strings.ReplaceAll(regexpEscape(user), "'", `\'`)
	return ` (command -v getent >/dev/null 2>&1 && getent passwd '` + shellEscaped + `' || grep -E '^` + grepEscaped + `|^[^:]*:[^:]*:` + grepEscaped + `:' /etc/passwd || true)`
}

// BuiltinHomesScript is the shell text of the RUN step that appends the two
// _*_HOME lines to /tmp/dev-container-features/devcontainer-features.builtin.env.
func (u Users) BuiltinHomesScript() string {
	f := "/tmp/dev-container-features/" + BuiltinEnvFile
	return `echo "_CONTAINER_USER_HOME=$(` + HomeLookupCommand(u.ContainerUser) + ` | cut -d: -f6)" >> ` + f + " && " +
		`echo "_REMOTE_USER_HOME=$(` + HomeLookupCommand(u.RemoteUser) + ` | cut -d: -f6)" >> ` + f
}

func regexpEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`.*+?^${}()|[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
