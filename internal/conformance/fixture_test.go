package conformance

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// fixture is testdata/conformance/<name>/fixture.json. The workspace is
// the fixture's workspace/ folder. In every file of the workspace, of
// publish and tarball sources, and in the string values of fixture.json,
// these placeholders are replaced:
//
//	@REGISTRY@   the stack's registry, 127.0.0.1:PORT
//	@LOCALHOST@  the same registry as localhost:PORT (the reference CLI
//	             speaks plain HTTP to localhost only: use it in feature refs)
//	@FILES@      https://localhost:PORT of the tarball server
//	@DEBIAN@     the Debian bookworm seed image, through @LOCALHOST@ (the
//	             fixture then needs Debian)
//
// Base images should be named through @LOCALHOST@: the reference CLI cannot
// parse 127.0.0.1:PORT/repo and then builds without the base's details
// (user, metadata label), which only matters when the base has them.
type fixture struct {
	Description string `json:"description"`
	// Files are compared between the images. Each must exist in the
	// reference image unless it is also listed in Absent (then it must
	// exist in neither).
	Files  []string `json:"files"`
	Absent []string `json:"absent"`
	// BaseImages are pushed before the builds: From (a repo:tag in the
	// registry) with User/Env/Labels changed, as Name.
	BaseImages []baseImage `json:"baseImages"`
	// Publish runs `devcontainer features publish --registry @LOCALHOST@
	// --namespace Namespace` on the fixture folder Src (a collection).
	Publish []struct {
		Src       string `json:"src"`
		Namespace string `json:"namespace"`
	} `json:"publish"`
	// Tarballs serves a gzipped tar of the feature folder Src at Path on
	// the https server.
	Tarballs []struct {
		Src  string `json:"src"`
		Path string `json:"path"`
	} `json:"tarballs"`
	// Fail: all three builds must fail, every output must contain Marker
	// and the final error line of devcache's two routes must name Feature.
	Fail *struct {
		Feature string `json:"feature"`
		Marker  string `json:"marker"`
	} `json:"fail"`
	// BuildArgs name variables of the harness's environment that a
	// `docker buildx build` of the fixture passes as `--build-arg NAME`
	// (the value then comes from the environment), as a user does for
	// ${localEnv:NAME}; such a build also passes
	// `--build-arg DEVCACHE_WORKSPACE_FOLDER=<workspace>`. The reference and
	// `docker devcache build` read the environment directly.
	BuildArgs []string `json:"buildArgs"`
	// BuildxGap declares that the `docker buildx build` route cannot build
	// the fixture yet: that build must fail with output containing Error
	// (README.md explains Why); its image is not compared. When the build
	// succeeds the test fails, asking to remove the declaration.
	BuildxGap *struct {
		Error string `json:"error"`
		Why   string `json:"why"`
	} `json:"buildxGap"`
	// Deviations are intended differences in the final Env: the reference
	// has Reference, devcache has Devcache (README.md explains each).
	Deviations []deviation `json:"deviations"`
	// Compose marks a Compose config: the reference builds it with
	// docker-compose on the Docker engine (its default builder, not the
	// stack's) and refuses --push for Compose, so the harness builds with
	// --image-name only and pushes that image with `docker push`.
	Compose bool `json:"compose"`
}

type baseImage struct {
	Name   string            `json:"name"`
	From   string            `json:"from"`
	User   *string           `json:"user"`
	Env    []string          `json:"env"`
	Labels map[string]string `json:"labels"`
}

type deviation struct {
	Env       string `json:"env"`
	Reference string `json:"reference"`
	Devcache  string `json:"devcache"`
	Why       string `json:"why"`
}

func fixturesDir() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..", "testdata", "conformance")
}

// usesPlaceholder reports whether any file of a fixture folder contains p.
func usesPlaceholder(dir, p string) bool {
	found := false
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(p)) {
			found = true
		}
		return nil
	})
	return found
}

// loadFixtures returns the fixtures' names and fixture.json texts.
func loadFixtures(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	entries, err := os.ReadDir(fixturesDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	raw := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(fixturesDir(), e.Name(), "fixture.json"))
		if err != nil {
			t.Fatalf("fixture %s: %v", e.Name(), err)
		}
		names = append(names, e.Name())
		raw[e.Name()] = string(b)
	}
	sort.Strings(names)
	return names, raw
}

func parseFixture(t *testing.T, raw string, r *strings.Replacer) *fixture {
	t.Helper()
	var f fixture
	dec := json.NewDecoder(strings.NewReader(r.Replace(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("fixture.json: %v", err)
	}
	return &f
}

// copyTree copies src to dst, replacing placeholders in every file.
func copyTree(t testing.TB, src, dst string, r *strings.Replacer) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(b, []byte{0}) {
			b = []byte(r.Replace(string(b)))
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// targz is a gzipped tar of dir with "./"-prefixed names, as
// `devcontainer features package` writes it.
func targz(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = "./" + filepath.ToSlash(rel)
		if rel == "." {
			h.Name = "./"
		} else if d.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pushBase pushes b (its From image with a changed config) to registry.
func pushBase(t testing.TB, registry string, b baseImage) {
	t.Helper()
	from, err := name.ParseReference(registry + "/" + b.From)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(from)
	if err != nil {
		t.Fatalf("base %s: %v", from, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	if b.User != nil {
		cf.Config.User = *b.User
	}
	cf.Config.Env = append(cf.Config.Env, b.Env...)
	if len(b.Labels) > 0 && cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	for k, v := range b.Labels {
		cf.Config.Labels[k] = v
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	to, err := name.ParseReference(registry + "/" + b.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(to, img); err != nil {
		t.Fatalf("pushing %s: %v", to, err)
	}
}
