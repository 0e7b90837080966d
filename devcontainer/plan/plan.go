package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
)

// FormatVersion is the version of the Plan's format and of its meaning for
// the compiler; it is part of the Key, so bumping it invalidates every
// cached image.
const FormatVersion = 1

// Plan is everything the LLB compiler needs, and nothing that does not
// change the image. Paths are relative to the workspace, so the checkout
// location does not change it.
type Plan struct {
	FormatVersion int    `json:"formatVersion"`
	Platform      string `json:"platform"`
	// ConfigFile is the config's path relative to the workspace.
	ConfigFile string `json:"configFile"`
	Base       Base   `json:"base"`
	// ImageUser is the base's user ("root" when unset): the USER restored
	// after the features.
	ImageUser string `json:"imageUser"`
	// Users are _CONTAINER_USER and _REMOTE_USER (only with features).
	Users *features.Users `json:"users,omitempty"`
	// BuiltinEnv is devcontainer-features.builtin.env as the client writes
	// it (the _*_HOME lines are appended in the image by HomesScript).
	BuiltinEnv  string `json:"builtinEnv,omitempty"`
	HomesScript string `json:"homesScript,omitempty"`
	// Features in install order.
	Features []Feature `json:"features"`
	// ContainerEnv is the config's containerEnv, baked as literal ENV after
	// the features (only when there are features).
	ContainerEnv []devcontainer.EnvVar `json:"containerEnv,omitempty"`
	// MetadataLabel is the devcontainer.metadata label value; "" means no
	// label.
	MetadataLabel string `json:"metadataLabel"`
}

// Base is the image the features are installed on.
type Base struct {
	Kind devcontainer.Kind `json:"kind"`
	// Image is the pinned base image (image configs; for Dockerfile
	// configs the external base of the target stage, when known).
	Image *devcontainer.Image `json:"image,omitempty"`
	// Dockerfile is the build (Dockerfile configs).
	Dockerfile *Dockerfile `json:"dockerfile,omitempty"`
}

// Dockerfile is a Dockerfile build.
type Dockerfile struct {
	// Path and Context are relative to the workspace.
	Path    string `json:"path"`
	Context string `json:"context"`
	// Content is the Dockerfile text as read.
	Content string                    `json:"content"`
	Args    []devcontainer.EnvVar     `json:"args,omitempty"`
	Target  string                    `json:"target,omitempty"`
	Options devcontainer.BuildOptions `json:"options"`
	// ContextDigest pins the build-context files the Dockerfile reads
	// (COPY/ADD sources, RUN bind mounts; after .dockerignore), by content
	// and executable bit; "" when it reads none, or when the Plan was
	// computed without access to the context (see Options.ReadFile).
	ContextDigest string `json:"contextDigest,omitempty"`
	// Images pins every external image the Dockerfile names (FROM of any
	// stage, COPY --from, RUN --mount=from), by what its tag pointed to.
	Images []ImagePin `json:"images,omitempty"`
	// Contexts are the build's named contexts (a Compose build's
	// additional_contexts), in name order.
	Contexts []NamedContext `json:"contexts,omitempty"`
	// Syntax pins the frontend image the Dockerfile's "# syntax=" line
	// (or a BUILDKIT_SYNTAX build arg) names; the build runs that digest.
	// Its Digest is "" where a named context (--build-context) replaces
	// the image.
	Syntax *ImagePin `json:"syntax,omitempty"`
}

// NamedContext is a named build context of a Dockerfile build, passed to
// BuildKit as --build-context Name=… is.
type NamedContext struct {
	Name string `json:"name"`
	// Path is a local directory, relative to the workspace when inside it.
	Path string `json:"path,omitempty"`
	// ContextDigest pins the directory's files the Dockerfile reads, as
	// Dockerfile.ContextDigest pins the main context's (after the
	// directory's own .dockerignore); "" likewise.
	ContextDigest string `json:"contextDigest,omitempty"`
	// Image is a docker-image:// context's reference; Images pins it.
	Image string `json:"image,omitempty"`
}

// Feature is one feature instance in install order.
type Feature struct {
	Index int `json:"index"`
	// ID is the feature's id; ConsecutiveID its staging folder <id>_<index>.
	ID            string `json:"id"`
	ConsecutiveID string `json:"consecutiveId"`
	// UserFeatureID is the reference as written (label id, lockfile key).
	UserFeatureID string `json:"userFeatureId"`
	// Options is the options value as written, as JSON.
	Options string `json:"options"`
	Version string `json:"version,omitempty"`
	Source  Source `json:"source"`
	// EnvFile is devcontainer-features.env; Wrapper is
	// devcontainer-features-install.sh.
	EnvFile string `json:"envFile"`
	Wrapper string `json:"wrapper"`
	// ContainerEnv is set with ENV (Dockerfile $-expansion) before the
	// feature's RUN.
	ContainerEnv []devcontainer.EnvVar `json:"containerEnv,omitempty"`
}

// Source pins a feature's content.
type Source struct {
	Kind features.Kind `json:"kind"`
	// OCI: the repository (registry/path), manifest and layer digests.
	Repository     string `json:"repository,omitempty"`
	ManifestDigest string `json:"manifestDigest,omitempty"`
	LayerDigest    string `json:"layerDigest,omitempty"`
	LayerSize      int64  `json:"layerSize,omitempty"`
	// Tarball: the URL and the digest of the download.
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Local: the folder relative to the workspace.
	Path string `json:"path,omitempty"`
	// ContentDigest is the digest of the payload's files (all kinds).
	ContentDigest string `json:"contentDigest"`
}

// JSON is the canonical serialisation: fixed field order, no HTML
// escaping, two-space indentation and a final newline.
func (p *Plan) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		panic(err) // only plain data types
	}
	return b.Bytes()
}

// Key is "sha256:<hex>" over the format version and the canonical JSON.
func (p *Plan) Key() string {
	h := sha256.New()
	h.Write([]byte("devcache-plan-v" + strconv.Itoa(FormatVersion) + "\n"))
	h.Write(p.JSON())
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// KeyOf is the cache key of the image built from plans, one Plan per target
// platform, always "sha256:<hex>": the Plan's own Key for one platform; for
// several, sha256 over their "<platform> <key>" lines in byte order, so the
// order in which the platforms were given does not matter. Nil for no Plan
// is "".
func KeyOf(plans []*Plan) string {
	switch len(plans) {
	case 0:
		return ""
	case 1:
		return plans[0].Key()
	}
	lines := make([]string, 0, len(plans))
	for _, p := range plans {
		lines = append(lines, p.Platform+" "+p.Key())
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "sha256:" + hex.EncodeToString(sum[:])
}
