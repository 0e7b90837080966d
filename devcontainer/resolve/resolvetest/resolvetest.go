// Package resolvetest provides real servers for resolution tests: an
// in-process OCI registry (go-containerregistry's) on a loopback listener,
// helpers to push base images and to publish features in the reference's
// artifact format, and an https server for tarball features. Tests only.
package resolvetest

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is an in-process registry reachable as Host ("localhost:<port>",
// plain HTTP, as the reference CLI requires for local registries).
type Registry struct {
	Host string
	srv  *http.Server
	// Requests counts requests by method and path, for "no network" tests.
	mu       sync.Mutex
	requests []string
	// inFlight and maxInFlight count requests being served (for
	// concurrency tests); latency delays each manifest request.
	inFlight, maxInFlight int
	latency               time.Duration
}

// StartRegistry starts a registry for the test.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Registry{Host: fmt.Sprintf("localhost:%d", l.Addr().(*net.TCPAddr).Port)}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.Path)
		r.inFlight++
		r.maxInFlight = max(r.maxInFlight, r.inFlight)
		latency := r.latency
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.inFlight--
			r.mu.Unlock()
		}()
		if strings.Contains(req.URL.Path, "/manifests/") {
			time.Sleep(latency)
		}
		h.ServeHTTP(w, req)
	})}
	go r.srv.Serve(l)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// Close stops the registry (for offline tests).
func (r *Registry) Close() { r.srv.Close() }

// Requests returns the requests served so far and forgets them.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.requests
	r.requests = nil
	return out
}

// SetLatency delays every manifest request by d from now on, as a remote
// registry's round trip would: concurrent lookups then overlap.
func (r *Registry) SetLatency(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency = d
}

// MaxInFlight returns the most requests served at once since the last
// call, and starts counting again.
func (r *Registry) MaxInFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.maxInFlight
	r.maxInFlight = r.inFlight
	return n
}

// ImageConfig is what PushImage puts in an image's config.
type ImageConfig struct {
	User    string
	Env     []string
	Labels  map[string]string
	OnBuild []string
}

// PushImage pushes a one-layer linux/amd64 image and returns its digest.
func (r *Registry) PushImage(t testing.TB, repoTag string, c ImageConfig) string {
	t.Helper()
	layer := static.NewLayer(tarOf(t, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"}), types.DockerLayer)
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.User, cf.Config.Env, cf.Config.Labels, cf.Config.OnBuild = c.User, c.Env, c.Labels, c.OnBuild
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return d.String()
}

// Published is a feature pushed by PublishFeature.
type Published struct {
	Ref            string // host/namespace/id:tag
	ManifestDigest string
	LayerDigest    string
}

// PublishFeature publishes the feature folder dir as the reference's
// `devcontainer features publish` does: an OCI manifest with config media
// type application/vnd.devcontainers (content "{}"), one layer
// application/vnd.devcontainers.layer.v1+tar holding an uncompressed tar of
// the folder with "./"-prefixed names, and the dev.containers.metadata
// annotation (the folder's devcontainer-feature.json, unless annotation is
// non-nil). repo is namespace/id; every tag is pushed.
func (r *Registry) PublishFeature(t testing.TB, dir, repo string, annotation *string, tags ...string) Published {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join(dir, "devcontainer-feature.json"))
	if err != nil {
		t.Fatal(err)
	}
	layer := FeatureTar(t, dir)
	id := repo[strings.LastIndex(repo, "/")+1:]
	config := []byte("{}")
	ann := string(compactJSON(t, meta))
	if annotation != nil {
		ann = *annotation
	}
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.devcontainers", "digest": digestOf(config), "size": len(config)},
		"layers": []any{map[string]any{
			"mediaType": "application/vnd.devcontainers.layer.v1+tar", "digest": digestOf(layer), "size": len(layer),
			"annotations": map[string]string{"org.opencontainers.image.title": "devcontainer-feature-" + id + ".tgz"},
		}},
	}
	if ann != "" {
		manifest["annotations"] = map[string]string{"dev.containers.metadata": ann}
	}
	body, _ := json.Marshal(manifest)
	base := "http://" + r.Host + "/v2/" + repo
	for _, blob := range [][]byte{config, layer} {
		resp, err := http.Post(base+"/blobs/uploads/?digest="+digestOf(blob), "application/octet-stream", bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("blob upload: %s", resp.Status)
		}
	}
	if len(tags) == 0 {
		tags = []string{"latest"}
	}
	for _, tag := range tags {
		req, _ := http.NewRequest(http.MethodPut, base+"/manifests/"+tag, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("manifest put: %s", resp.Status)
		}
	}
	return Published{Ref: r.Host + "/" + repo + ":" + tags[0], ManifestDigest: digestOf(body), LayerDigest: digestOf(layer)}
}

func compactJSON(t testing.TB, b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimSpace(buf.Bytes())
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// FeatureTar is an uncompressed tar of a folder with "./"-prefixed names,
// as `devcontainer features package` writes it.
func FeatureTar(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return err
	})
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := tar.FileInfoHeader(fi, "")
		h.Name = "./" + filepath.ToSlash(rel)
		if rel == "." {
			h.Name = "./"
		} else if fi.IsDir() {
			h.Name += "/"
		}
		h.Uname, h.Gname, h.Uid, h.Gid = "", "", 0, 0
		h.ModTime = h.ModTime.Truncate(1e9)
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			tw.Write(data)
		}
	}
	tw.Close()
	return buf.Bytes()
}

func tarOf(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg})
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	return buf.Bytes()
}

// Files is an https server for tarball features. Its certificate is in
// CertFile (for NODE_EXTRA_CA_CERTS) and trusted by Client.
type Files struct {
	URL      string
	Client   *http.Client
	CertFile string
	mu       sync.Mutex
	files    map[string][]byte
	hits     int
}

// StartFiles starts the server.
func StartFiles(t testing.TB) *Files {
	t.Helper()
	f := &Files{files: map[string][]byte{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		data, ok := f.files[r.URL.Path]
		f.hits++
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	certPEM, cert := localhostCert(t)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f.URL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	f.Client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	f.CertFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f.CertFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	certOnce sync.Once
	certPEM  []byte
	certPair tls.Certificate
	certErr  error
)

// CertPEM is the self-signed certificate (for localhost and 127.0.0.1)
// every Files server of this process presents: trusting it once, for
// example through SSL_CERT_DIR before a daemon starts
// (stacktest.MainTrusting), trusts them all.
func CertPEM() []byte {
	certOnce.Do(func() { certPEM, certPair, certErr = newLocalhostCert() })
	if certErr != nil {
		panic("resolvetest: " + certErr.Error())
	}
	return certPEM
}

// localhostCert is CertPEM and its key pair.
func localhostCert(t testing.TB) ([]byte, tls.Certificate) {
	t.Helper()
	return CertPEM(), certPair
}

func newLocalhostCert() ([]byte, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	pair, err := tls.X509KeyPair(pemCert, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return pemCert, pair, err
}

// Put serves data at path (e.g. "/v1/devcontainer-feature-x.tgz") and
// returns its URL.
func (f *Files) Put(path string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path] = data
	return f.URL + path
}

// Hits is the number of requests served.
func (f *Files) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}
