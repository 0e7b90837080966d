package build

import (
	"testing"

	"github.com/moby/buildkit/client"
)

// TestParseOutputs: --output values become the exporter entries buildx
// makes of them (registry is the image exporter with push, a bare path is
// a local directory, -t names the exporters that take a name).
func TestParseOutputs(t *testing.T) {
	dir := t.TempDir()
	got, err := ParseOutputs([]string{"type=registry", dir, "type=oci,dest=" + dir + "/o.tar", "type=image,name=x/y:1,push=true"}, "r/a:1,r/b:1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d entries", len(got))
	}
	if e := got[0]; e.Type != client.ExporterImage || e.Attrs["push"] != "true" || e.Attrs["name"] != "r/a:1,r/b:1" {
		t.Errorf("registry: %+v", e)
	}
	if e := got[1]; e.Type != client.ExporterLocal || e.OutputDir != dir {
		t.Errorf("bare path: %+v", e)
	}
	if e := got[2]; e.Type != client.ExporterOCI || e.Output == nil || e.Attrs["name"] != "r/a:1,r/b:1" || e.Attrs["dest"] != "" {
		t.Errorf("oci: %+v", e)
	}
	if e := got[3]; e.Attrs["name"] != "x/y:1" {
		t.Errorf("an explicit name was replaced: %+v", e)
	}
	for _, bad := range []string{"dest=x", "type=local", "type=oci,dest=" + dir} {
		if _, err := ParseOutputs([]string{bad}, ""); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestParseCaches: a bare reference is a registry cache; gha without a
// token (outside Actions) is skipped, with one it is kept.
func TestParseCaches(t *testing.T) {
	t.Setenv("ACTIONS_RUNTIME_TOKEN", "")
	got, err := ParseCaches("--cache-from", []string{"reg/repo:cache", "type=registry,ref=reg/r:c,mode=max", "type=gha"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Type != "registry" || got[0].Attrs["ref"] != "reg/repo:cache" || got[1].Attrs["mode"] != "max" {
		t.Errorf("got %+v", got)
	}
	t.Setenv("ACTIONS_RUNTIME_TOKEN", "tok")
	got, _ = ParseCaches("--cache-to", []string{"type=gha,scope=s"})
	if len(got) != 1 || got[0].Attrs["token"] != "tok" || got[0].Attrs["scope"] != "s" {
		t.Errorf("gha in Actions: %+v", got)
	}
	if _, err := ParseCaches("--cache-to", []string{"mode=max,ref=x"}); err == nil {
		t.Error("no type: no error")
	}
}
