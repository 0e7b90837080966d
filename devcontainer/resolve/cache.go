package resolve

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/devcache/devcache/internal/atomicfile"
)

// cachePath is <CacheDir>/blobs/sha256/<hex> for a valid digest.
func (c *Client) cachePath(digest string) string {
	if c.o.CacheDir == "" {
		return ""
	}
	hexPart, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexPart) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return ""
	}
	return filepath.Join(c.o.CacheDir, "blobs", "sha256", hexPart)
}

// cacheGet returns the cached content of digest, verified; nil when absent.
func (c *Client) cacheGet(digest string) ([]byte, error) {
	p := c.cachePath(digest)
	if p == "" {
		return nil, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, nil
	}
	sum := sha256.Sum256(data)
	if "sha256:"+hex.EncodeToString(sum[:]) != digest {
		_ = os.Remove(p)
		return nil, nil
	}
	return data, nil
}

// cachePut stores verified content under its digest (best effort).
func (c *Client) cachePut(digest string, data []byte) {
	p := c.cachePath(digest)
	if p == "" {
		return
	}
	if _, err := os.Stat(p); err == nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	_ = atomicfile.Write(p, data, 0o644)
}
