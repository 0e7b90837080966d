package plugin

import (
	"github.com/distribution/reference"

	"github.com/devcache/devcache/internal/atomicfile"
)

// writeFileAtomic replaces path with data atomically (internal/atomicfile),
// so a failure never leaves a half-written file behind.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}

// repoOf returns the repository part of an image reference (no tag/digest).
func repoOf(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return n.Name()
}
