package devcontainer

// Image is a base image pinned for one platform, with what the build reads
// from its config.
type Image struct {
	// Ref is the reference as written.
	Ref string `json:"ref"`
	// Digest is what Ref points to now (an index or a manifest).
	Digest string `json:"digest"`
	// ManifestDigest is the image manifest for Platform.
	ManifestDigest string `json:"manifestDigest"`
	Platform       string `json:"platform"`
	// User is Config.User ("" when unset).
	User   string            `json:"user"`
	Env    []string          `json:"env,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// OnBuild are the image's ONBUILD triggers (Config.OnBuild), which a
	// Dockerfile build FROM it runs as its own first instructions.
	OnBuild []string `json:"onBuild,omitempty"`
}
