package resolve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/payload"
)

func (c *Client) resolveLocal(ref *features.Ref) (*features.Source, *payload.Tree, error) {
	dir := filepath.FromSlash(ref.LocalPath)
	metaPath := filepath.Join(dir, features.MetadataFile)
	data, err := os.ReadFile(metaPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("local feature %s has no %s (is the path right?)", ref.LocalPath, features.MetadataFile)
		}
		return nil, nil, err
	}
	tree, err := payload.ReadDir(dir, c.o.Limits)
	if err != nil {
		return nil, nil, fmt.Errorf("local feature %s: %w", ref.LocalPath, err)
	}
	src := &features.Source{Ref: ref}
	file := ref.UserFeatureID + "/" + features.MetadataFile
	if len(trim(data)) > 0 {
		if src.DepMetadata, err = features.ParseMetadataJSON(file, data); err != nil {
			return nil, nil, err
		}
	}
	if src.PayloadMetadata, err = features.ParseMetadataJSON(file, data); err != nil {
		return nil, nil, err
	}
	return src, tree, nil
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}
