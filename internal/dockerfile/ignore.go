package dockerfile

import "path"

// IgnoreFiles returns the ignore files that may apply to a build of the
// Dockerfile at dockerfilePath with the context at contextDir (slash paths
// in one tree), in BuildKit's order of precedence: the Dockerfile's own
// "<Dockerfile>.dockerignore" next to it, then the context's .dockerignore.
// The first that exists applies alone; patterns in either are relative to
// the context root.
func IgnoreFiles(dockerfilePath, contextDir string) []string {
	return []string{dockerfilePath + ".dockerignore", path.Join(contextDir, ".dockerignore")}
}
