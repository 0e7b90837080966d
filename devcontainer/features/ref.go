package features

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Kind is the kind of a feature source, with the reference's names.
type Kind string

const (
	KindOCI     Kind = "oci"
	KindTarball Kind = "direct-tarball"
	KindLocal   Kind = "file-path"
)

// Ref is a parsed feature reference (a key of `features`, `dependsOn`,
// `installsAfter` or `overrideFeatureInstallOrder`).
type Ref struct {
	// UserFeatureID is the reference exactly as the user wrote it: the
	// label's `id` and the lockfile key.
	UserFeatureID string
	// ID is the reference after the legacy bare-id auto-mapping
	// (`node` → `ghcr.io/devcontainers/features/node:1`); what is fetched.
	ID   string
	Kind Kind
	// FeatureID is the id the reference implies: the OCI id, the tarball
	// name's capture, or the local folder's basename. The feature's
	// devcontainer-feature.json may override it.
	FeatureID string

	OCI        *OCIRef // KindOCI
	TarballURL string  // KindTarball
	LocalPath  string  // KindLocal: resolved absolute (slash) path
}

// RefContext is what resolving a reference needs from the config.
type RefContext struct {
	// ConfigPath is the config file's absolute slash path: local references
	// resolve against its directory.
	ConfigPath string
	// Workspace is the workspace folder's absolute slash path: local
	// features must be inside <Workspace>/.devcontainer.
	Workspace string
}

// migratedFeatures are the bare ids the reference maps to
// ghcr.io/devcontainers/features/<id>:1.
var migratedFeatures = map[string]string{
	"aws-cli": "aws-cli", "azure-cli": "azure-cli", "desktop-lite": "desktop-lite",
	"docker-in-docker": "docker-in-docker", "docker-from-docker": "docker-from-docker",
	"dotnet": "dotnet", "git": "git", "git-lfs": "git-lfs", "github-cli": "github-cli",
	"java": "java", "kubectl-helm-minikube": "kubectl-helm-minikube", "node": "node",
	"powershell": "powershell", "python": "python", "ruby": "ruby", "rust": "rust",
	"sshd": "sshd", "terraform": "terraform",
	"golang": "go", "common": "common-utils",
}

const officialFeatures = "ghcr.io/devcontainers/features"

// BackwardCompatibleID maps the legacy bare ids of the old VS Code features
// to their ghcr.io/devcontainers/features successors, as the reference always
// does. Other ids are returned unchanged.
func BackwardCompatibleID(id string) string {
	if to, ok := migratedFeatures[id]; ok {
		return officialFeatures + "/" + to + ":1"
	}
	return id
}

// ErrLegacyID is the reference's error for a bare id that is not
// auto-mapped.
func legacyIDError(id string) error {
	return fmt.Errorf("Legacy feature '%s' not supported. Please check https://containers.dev/features for replacements.\nIf you were hoping to use local Features, remember to prepend your Feature name with \"./\". Please check https://containers.dev/implementors/features-distribution/#addendum-locally-referenced for more information.", id)
}

var (
	tarballNameRE = regexp.MustCompile(`devcontainer-feature-(.*).tgz`)
	featureIDRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]*$`)
)

// ErrNotSupported marks references the reference CLI accepts but devcache
// does not (legacy GitHub-release features).
var ErrNotSupported = errors.New("not supported")

// ParseRef parses a feature reference as the reference CLI classifies it
// (getFeatureIdType/processFeatureIdentifier), without any I/O: bare ids are
// auto-mapped or rejected, https:// URLs are tarballs, ./ ../ / are local
// folders that must be inside .devcontainer/, everything else is OCI.
func ParseRef(userFeatureID string, rc RefContext) (*Ref, error) {
	r := &Ref{UserFeatureID: userFeatureID, ID: BackwardCompatibleID(userFeatureID)}
	id := r.ID
	if !strings.ContainsAny(id, `/\`) {
		return nil, legacyIDError(id)
	}
	switch {
	case strings.HasPrefix(id, "https://"):
		u, err := url.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("invalid tarball URL: %v", err)
		}
		u.Host = strings.ToLower(u.Host)
		p := u.EscapedPath()
		name := p[strings.LastIndex(p, "/")+1:]
		m := tarballNameRE.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("expected the tarball name to follow 'devcontainer-feature-<feature-id>.tgz', got %q", name)
		}
		if m[1] == "" || !featureIDRE.MatchString(m[1]) {
			return nil, fmt.Errorf("the feature id %q in the tarball name must be letters, digits, '-' and '_'", m[1])
		}
		r.Kind, r.TarballURL, r.FeatureID = KindTarball, u.String(), m[1]
		return r, nil
	case strings.HasPrefix(id, "./") || strings.HasPrefix(id, "../") || strings.HasPrefix(id, "/"):
		if path.IsAbs(id) {
			return nil, errors.New("an absolute path to a local feature is not allowed; use a path relative to the config, inside .devcontainer/")
		}
		if rc.ConfigPath == "" {
			return nil, errors.New("a local feature needs the config file's path")
		}
		p := path.Join(path.Dir(rc.ConfigPath), id)
		parent := path.Join(rc.Workspace, ".devcontainer")
		rel := relPosix(parent, p)
		if strings.Contains(rel, "..") {
			return nil, errors.New("local feature must be inside .devcontainer/")
		}
		r.Kind, r.LocalPath, r.FeatureID = KindLocal, p, path.Base(id)
		return r, nil
	}
	o, err := ParseOCIRef(id)
	if err != nil {
		return nil, err
	}
	if !o.Fetchable() {
		return nil, fmt.Errorf("%q is not an OCI reference (its registry has no '.' and is not localhost); GitHub-release features (owner/repo/feature) are %w: publish the feature to an OCI registry", id, ErrNotSupported)
	}
	r.Kind, r.OCI, r.FeatureID = KindOCI, o, o.ID
	return r, nil
}

// WithoutVersionOrUnknown is the wrapper banner's Id: the OCI reference
// without its version, or "Unknown" for other kinds.
func (r *Ref) WithoutVersionOrUnknown() string {
	if r.Kind == KindOCI {
		return WithoutVersion(r.UserFeatureID)
	}
	return "Unknown"
}

// relPosix is Node's path.posix.relative for absolute, clean paths.
func relPosix(from, to string) string {
	from, to = path.Clean(from), path.Clean(to)
	if from == to {
		return ""
	}
	fp := splitPath(from)
	tp := splitPath(to)
	i := 0
	for i < len(fp) && i < len(tp) && fp[i] == tp[i] {
		i++
	}
	var out []string
	for j := i; j < len(fp); j++ {
		out = append(out, "..")
	}
	out = append(out, tp[i:]...)
	return strings.Join(out, "/")
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
