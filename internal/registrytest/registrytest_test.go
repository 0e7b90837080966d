package registrytest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// TestProxyOverDistribution: in front of the stack's real registry
// (distribution 2.8), the writer pushes and deletes, the reader pulls but
// cannot push or delete, and no credentials get a 401 challenge.
func TestProxyOverDistribution(t *testing.T) {
	s := stacktest.Get(t)
	p := registrytest.Start(t, s.Registry)
	writer := remote.WithAuth(&authn.Basic{Username: registrytest.Writer, Password: registrytest.WriterPassword})
	reader := remote.WithAuth(&authn.Basic{Username: registrytest.Reader, Password: registrytest.ReaderPassword})

	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(p.Host + "/registrytest/ro:1")
	if err := remote.Write(ref, img, writer); err != nil {
		t.Fatalf("writer push: %v", err)
	}
	if _, err := remote.Head(ref, reader); err != nil {
		t.Fatalf("reader HEAD: %v", err)
	}
	got, err := remote.Image(ref, reader)
	if err != nil {
		t.Fatalf("reader pull: %v", err)
	}
	if _, err := got.RawConfigFile(); err != nil {
		t.Fatalf("reader config: %v", err)
	}
	other, _ := name.ParseReference(p.Host + "/registrytest/ro:2")
	err = remote.Write(other, img, reader)
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusForbidden {
		t.Fatalf("reader push: %v, want 403", err)
	}
	d, _ := img.Digest()
	if err := remote.Delete(ref.Context().Digest(d.String()), reader); !errors.As(err, &te) || te.StatusCode != http.StatusForbidden {
		t.Fatalf("reader delete: %v, want 403", err)
	}
	if _, err := remote.Head(ref); !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous HEAD: %v, want 401", err)
	}
	if err := remote.Delete(ref.Context().Digest(d.String()), writer); err != nil {
		t.Fatalf("writer delete on distribution: %v", err)
	}
	if _, err := remote.Head(ref, reader); err == nil {
		t.Fatalf("tag still there after deleting its manifest")
	}
	var denied int
	for _, r := range p.Requests() {
		if strings.HasPrefix(r, "reader ") && strings.HasSuffix(r, " 403") {
			denied++
		}
	}
	if denied == 0 {
		t.Error("no denied reader request recorded")
	}
}
