package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Seed images, by repository:tag in the stack's registry. Each also gets a
// library/ copy so that docker.io references (FROM busybox) resolve through
// the mirror.
const (
	BusyboxRepo = "busybox:latest"
	DebianRepo  = "debian:bookworm"
)

// seed is one image the stack puts into its registry.
type seed struct {
	repo string
	// recipe changes whenever build changes what it makes, so that
	// stacks seeded by an older recipe are seeded again.
	recipe string
	build  func(ctx context.Context) (v1.Image, error)
}

// ensureSeed pushes the image and its library/ alias unless they are there
// and were made by the current recipe.
func (s *Stack) ensureSeed(ctx context.Context, sd seed, log io.Writer) error {
	ref, err := parseRef(s.Ref(sd.repo))
	if err != nil {
		return err
	}
	recipes := readSeedRecipes(s.Dir)
	fresh := recipes[sd.repo] == sd.recipe
	if _, ok, err := headImage(ctx, ref); err != nil {
		return err
	} else if !ok || !fresh {
		start := time.Now()
		img, err := sd.build(ctx)
		if err != nil {
			return fmt.Errorf("building seed image %s: %w", ref, err)
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("pushing seed image %s: %w; see %s", ref, err, filepath.Join(s.Dir, registryName+".log"))
		}
		d, err := img.Digest()
		if err != nil {
			return fmt.Errorf("digest of seed image %s: %w", ref, err)
		}
		fmt.Fprintf(log, "seeded %s@%s in %s\n", ref, d, time.Since(start).Round(10*time.Millisecond))
	}
	alias, err := parseRef(s.Ref("library/" + sd.repo))
	if err != nil {
		return err
	}
	if _, ok, err := headImage(ctx, alias); err != nil {
		return err
	} else if !ok || !fresh {
		img, err := remote.Image(ref, remote.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("reading %s: %w", ref, err)
		}
		// The layers are remote, so this mounts them instead of copying.
		if err := remote.Write(alias, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("pushing %s: %w", alias, err)
		}
		fmt.Fprintf(log, "seeded %s (for docker.io through the mirror)\n", alias)
	}
	if !fresh {
		recipes[sd.repo] = sd.recipe
		return writeSeedRecipes(s.Dir, recipes)
	}
	return nil
}

// seedsFile records which recipe made each seed in the stack's registry.
const seedsFile = "seeds.json"

func readSeedRecipes(dir string) map[string]string {
	m := map[string]string{}
	_ = readJSON(filepath.Join(dir, seedsFile), &m) // missing or bad: reseed
	return m
}

func writeSeedRecipes(dir string, m map[string]string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", seedsFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, seedsFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", seedsFile, err)
	}
	return nil
}

// seedImage makes a one-layer OCI image with the seed config.
func seedImage(layer v1.Layer, cmd []string, createdBy string) (v1.Image, error) {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	base, err := mutate.ConfigFile(base, seedConfig(cmd))
	if err != nil {
		return nil, fmt.Errorf("setting the seed config: %w", err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: seedTime}, CreatedBy: createdBy},
	})
	if err != nil {
		return nil, fmt.Errorf("adding the seed layer: %w", err)
	}
	return img, nil
}

func parseRef(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("parsing %q: %w", ref, err)
	}
	return r, nil
}

// headImage reports the descriptor of ref, and false when the registry does
// not have it.
func headImage(ctx context.Context, ref name.Reference) (*v1.Descriptor, bool, error) {
	d, err := remote.Head(ref, remote.WithContext(ctx))
	if err == nil {
		return d, true, nil
	}
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("checking %s: %w", ref, err)
}
