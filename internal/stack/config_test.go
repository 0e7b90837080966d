package stack

import (
	"bytes"
	"strings"
	"testing"

	bkconfig "github.com/moby/buildkit/cmd/buildkitd/config"
)

// The generated buildkitd.toml must mean to buildkitd what we intend.
func TestBuildkitdConfigLoads(t *testing.T) {
	cfg, err := bkconfig.Load(bytes.NewReader(buildkitdConfig("/s/root", "unix:///s/buildkitd.sock", "/s/otel.sock", "127.0.0.1:5000")))
	if err != nil {
		t.Fatalf("buildkitd cannot load the config: %v", err)
	}
	if cfg.Root != "/s/root" || len(cfg.GRPC.Address) != 1 || cfg.GRPC.Address[0] != "unix:///s/buildkitd.sock" || cfg.OTEL.SocketPath != "/s/otel.sock" {
		t.Errorf("root/grpc/otel = %q %q %q", cfg.Root, cfg.GRPC.Address, cfg.OTEL.SocketPath)
	}
	if oci := cfg.Workers.OCI; oci.Enabled == nil || !*oci.Enabled || oci.GC == nil || !*oci.GC || oci.GCMaxUsedSpace.Bytes == 0 {
		t.Errorf("worker.oci = %+v, want enabled with a bounded gc", oci)
	}
	if c := cfg.Workers.Containerd.Enabled; c == nil || *c {
		t.Errorf("worker.containerd.enabled = %v, want false", c)
	}
	for _, r := range mirroredRegistries {
		if m := cfg.Registries[r].Mirrors; len(m) != 1 || m[0] != "127.0.0.1:5000" {
			t.Errorf("registry %q mirrors = %q, want the local registry", r, m)
		}
	}
	if h := cfg.Registries["127.0.0.1:5000"].PlainHTTP; h == nil || !*h {
		t.Errorf("the local registry is not plain HTTP")
	}
}

func TestRegistryConfig(t *testing.T) {
	got := string(registryConfig("/s/registry data", "127.0.0.1:5123"))
	for _, want := range []string{`rootdirectory: "/s/registry data"`, `addr: "127.0.0.1:5123"`, "delete:\n    enabled: true"} {
		if !strings.Contains(got, want) {
			t.Errorf("registry config lacks %q:\n%s", want, got)
		}
	}
}
