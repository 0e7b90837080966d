package build

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/devcache/devcache/plugin/cache"
)

// TestLayerCacheExportsOnce: push's layer cache is exported once, to the
// key's tag, and the scope's tag is its alias; without a key the scope's
// tag is the export and there is no alias. Both are imported.
func TestLayerCacheExportsOnce(t *testing.T) {
	repo, _ := name.NewRepository("registry.test/team/cache")
	lc := LayerCache{Repo: &repo, Scope: "s", Key: "sha256:abc"}
	exports, err := lc.Exports(true)
	if err != nil {
		t.Fatal(err)
	}
	key, scope := repo.Tag(cache.KeyCacheTag(lc.Key)).String(), repo.Tag(cache.ScopeTag("s")).String()
	if len(exports) != 1 || exports[0].Attrs["ref"] != key || exports[0].Attrs["ignore-error"] != "true" {
		t.Errorf("exports = %+v, want one to %s", exports, key)
	}
	if a := lc.Aliases(); len(a) != 1 || a[0].String() != scope {
		t.Errorf("aliases = %v, want %s", a, scope)
	}
	if im := lc.Imports(); len(im) != 2 || im[0].Attrs["ref"] != key || im[1].Attrs["ref"] != scope {
		t.Errorf("imports = %+v, want %s then %s", im, key, scope)
	}

	lc.Key = ""
	exports, _ = lc.Exports(true)
	if len(exports) != 1 || exports[0].Attrs["ref"] != scope || len(lc.Aliases()) != 0 {
		t.Errorf("without a key: exports %+v, aliases %v", exports, lc.Aliases())
	}
}
