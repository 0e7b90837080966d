package devcontainer

import "github.com/devcache/devcache/devcontainer/jsonc"

// Variables are the values build-time substitution draws on.
type Variables struct {
	// LocalEnv looks up ${localEnv:NAME} and ${env:NAME}.
	LocalEnv func(name string) (string, bool)
	// LocalWorkspaceFolder is the absolute workspace path on the client.
	LocalWorkspaceFolder string
}

func (vs *Variables) substituteObject(o *jsonc.Object) *jsonc.Object {
	// The full substitution rules of the reference are implemented with the
	// model; until then values are taken as written.
	return o
}
