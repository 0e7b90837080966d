package features

import (
	"context"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// Source is a feature reference resolved to immutable content.
type Source struct {
	Ref *Ref

	// ManifestDigest (OCI) is the digest of the feature's manifest, and
	// LayerDigest that of its first layer (the payload, as the reference
	// takes it); LayerSize is the layer's size.
	ManifestDigest string
	LayerDigest    string
	LayerSize      int64
	// TarballDigest (tarball) is "sha256:<hex>" of the downloaded bytes.
	TarballDigest string
	// ContentDigest is the digest of the extracted payload tree (all kinds;
	// for local features the only pin of their content).
	ContentDigest string

	// DepMetadata is the metadata the reference reads while building the
	// dependency graph: the OCI manifest's dev.containers.metadata
	// annotation (else the payload's json), the local json (nil when the
	// file is empty), or the tarball's json. Nil when there is none.
	DepMetadata *jsonc.Object
	// PayloadMetadata is devcontainer-feature.json in the payload; nil when
	// the payload has none (the reference then fails to parse the feature).
	PayloadMetadata *jsonc.Object
}

// Integrity is the lockfile's integrity of the source: the manifest digest
// for OCI, the download's digest for tarballs, "" for local features.
func (s *Source) Integrity() string {
	switch s.Ref.Kind {
	case KindOCI:
		return s.ManifestDigest
	case KindTarball:
		return s.TarballDigest
	}
	return ""
}

// A Resolver pins feature references. The client implementation (package
// devcontainer/resolve) uses registries and HTTP with the user's
// credentials; a frontend can implement it over the BuildKit gateway.
type Resolver interface {
	// Resolve resolves ref to its source. pin, when set, is the lockfile's
	// integrity for the reference: the manifest digest to fetch instead of
	// the tag (OCI) or the digest the download must have (tarball).
	Resolve(ctx context.Context, ref *Ref, pin string) (*Source, error)
}
