package builder

import (
	"reflect"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestCannotExportCacheMessage(t *testing.T) {
	msg := ErrCannotExportCache("default", "docker").Error()
	for _, want := range []string{`"default"`, `"docker"`, "docker buildx create", "--buildkit-host"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

// TestRoute: each platform goes to the first node declaring it, others to
// the first node; nodes in the order of their first platform.
func TestRoute(t *testing.T) {
	ng := &nodeGroup{Name: "b", Nodes: []storeNode{
		{Name: "n0", Platforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}}},
		{Name: "n1", Platforms: []ocispecs.Platform{{OS: "linux", Architecture: "arm64"}, {OS: "linux", Architecture: "arm", Variant: "v7"}}},
		{Name: "n2", Platforms: []ocispecs.Platform{{OS: "linux", Architecture: "arm64"}}},
	}}
	got := route(ng, []string{"linux/arm64", "linux/amd64", "linux/riscv64", "linux/arm/v7"})
	want := []routed{{1, []string{"linux/arm64", "linux/arm/v7"}}, {0, []string{"linux/amd64", "linux/riscv64"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("route = %+v, want %+v", got, want)
	}
	if got := route(ng, nil); !reflect.DeepEqual(got, []routed{{node: 0}}) {
		t.Errorf("no platforms: %+v", got)
	}
}

// TestPlainAddress: only a remote node's tcp:// or unix:// without TLS is
// dialled directly.
func TestPlainAddress(t *testing.T) {
	for _, c := range []struct {
		driver, endpoint string
		opts             map[string]string
		want             bool
	}{
		{"remote", "tcp://127.0.0.1:1234", nil, true},
		{"remote", "unix:///run/buildkit.sock", nil, true},
		{"remote", "tcp://127.0.0.1:1234", map[string]string{"cacert": "/ca.pem"}, false},
		{"remote", "docker-container://bk", nil, false},
		{"docker-container", "unix:///var/run/docker.sock", nil, false},
		{"kubernetes", "kubernetes:///b?deployment=x", nil, false},
	} {
		if _, got := plainAddress(c.driver, storeNode{Endpoint: c.endpoint, DriverOpts: c.opts}); got != c.want {
			t.Errorf("%s %s %v: direct = %v", c.driver, c.endpoint, c.opts, got)
		}
	}
}
