package llb

import (
	"context"
	"slices"
	"strings"
	"testing"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func testImage() *dockerspec.DockerOCIImage {
	img := &dockerspec.DockerOCIImage{}
	img.Platform = ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	img.Config.Env = []string{"PATH=/usr/bin:/bin", "HOME=/root"}
	img.Config.User = ""
	img.History = []ocispecs.History{{CreatedBy: "base"}}
	return img
}

func execOps(t *testing.T, st bkllb.State) []*pb.ExecOp {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []*pb.ExecOp
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if e := op.GetExec(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func TestApplyFeaturesLayersEnvUser(t *testing.T) {
	base := bkllb.Image("example.com/base@sha256:0000000000000000000000000000000000000000000000000000000000000000")
	payload := bkllb.Scratch().File(bkllb.Mkfile("/install.sh", 0o755, []byte("#!/bin/sh\ntouch /a\n")))
	fs := FeatureSet{
		BuiltinEnv: "_CONTAINER_USER=root\n_REMOTE_USER=vscode\n", HomesScript: "echo homes", ImageUser: "",
		Features: []FeatureInstall{
			{Dir: "a_0", Name: "./a", Payload: payload, EnvFile: []byte(`X="1"`), Wrapper: []byte("#!/bin/sh\n"),
				ContainerEnv: []EnvVar{{"PATH", "/opt/a/bin:${PATH}"}, {"A", "$HOME-y"}, {"Q", `it's "quoted"`}, {"E", `\$HOME C:\dir`}}},
			{Dir: "b_1", Name: "./b", Payload: payload, EnvFile: nil, Wrapper: []byte("#!/bin/sh\n")},
		},
		ConfigEnv: []EnvVar{{"LIT", `a $b "c" \d`}, {"P2", "/x:${containerEnv:PATH}"}},
	}
	st, img, err := ApplyFeatures(base, testImage(), fs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := []string{"PATH=/opt/a/bin:/usr/bin:/bin", "HOME=/root", "A=/root-y", `Q=it's "quoted"`, `E=\/root C:\dir`, `LIT=a $b "c" \d`, "P2=/x:/opt/a/bin:/usr/bin:/bin"}
	if !slices.Equal(img.Config.Env, wantEnv) {
		t.Errorf("Env = %q\nwant %q", img.Config.Env, wantEnv)
	}
	if img.Config.User != "root" {
		t.Errorf("User = %q, want root written explicitly", img.Config.User)
	}
	// One exec for the home directories plus one per feature; each feature
	// exec mounts its staged dir read-only and runs as root.
	execs := execOps(t, st)
	if len(execs) != 3 {
		t.Fatalf("%d exec ops, want 3", len(execs))
	}
	layers := 0
	for _, h := range img.History[1:] {
		if !h.EmptyLayer {
			layers++
		}
	}
	if layers != 2+len(fs.Features) {
		t.Errorf("%d new layers in history, want %d (no more than the reference's 3+N)", layers, 2+len(fs.Features))
	}
	for _, e := range execs {
		if e.Meta.User != "root" {
			t.Errorf("exec user %q", e.Meta.User)
		}
		cmd := strings.Join(e.Meta.Args, " ")
		if strings.Contains(cmd, "devcontainer-features-install.sh") {
			ro := false
			for _, m := range e.Mounts {
				if strings.HasPrefix(m.Dest, featuresSrcDir+"/") && m.Readonly {
					ro = true
				}
			}
			if !ro {
				t.Errorf("feature exec %q lacks a read-only staged mount", cmd)
			}
		}
	}
	// The first feature's env is visible to the second feature's install.
	last := execs[len(execs)-1]
	if !slices.Contains(last.Meta.Env, "A=/root-y") {
		t.Errorf("second feature env %q lacks A", last.Meta.Env)
	}
}

func TestApplyFeaturesDeterministic(t *testing.T) {
	mk := func() []byte {
		base := bkllb.Image("example.com/base:1")
		payload := bkllb.Scratch().File(bkllb.Mkfile("/install.sh", 0o755, []byte("x")))
		st, _, err := ApplyFeatures(base, testImage(), FeatureSet{Features: []FeatureInstall{{Dir: "a_0", Name: "a", Payload: payload}}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		def, err := st.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		for _, d := range def.Def {
			b = append(b, d...)
		}
		return b
	}
	if string(mk()) != string(mk()) {
		t.Error("same input gave different LLB")
	}
}

func TestNoFeaturesNoChange(t *testing.T) {
	base := bkllb.Image("example.com/base:1")
	img := testImage()
	_, out, err := ApplyFeatures(base, img, FeatureSet{ConfigEnv: []EnvVar{{"X", "1"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out != img {
		t.Error("without features the image config must be left as is (containerEnv is label-only then)")
	}
}
