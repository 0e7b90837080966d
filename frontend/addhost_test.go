package frontend

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestAddHostReachesRUN: build.options' --add-host host:ip is in
// /etc/hosts for the Dockerfile's RUN, on the // syntax= route (the
// frontend's own Plan) and from the client's Plan (the plugin route).
func TestAddHostReachesRUN(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile", "options": ["--add-host", "devcache-added:10.11.12.13", "--add-host=other.test=10.0.0.9"]}}`,
		".devcontainer/Dockerfile":        "FROM " + s.Ref("busybox:latest") + "\nRUN cat /etc/hosts > /hosts\n",
	})
	res, err := plan.ForWorkspace(context.Background(), ws, plan.Options{Resolver: resolve.New(resolve.Options{}), Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	plans, err := json.Marshal([]*plan.Plan{res.Plan})
	if err != nil {
		t.Fatal(err)
	}
	for route, attrs := range map[string]map[string]string{"syntax": nil, "plan": {PlanOpt: string(plans)}} {
		ref := s.Ref("frontend/addhost:" + route)
		if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, attrs); err != nil {
			t.Fatalf("%s route: %v", route, err)
		}
		_, files, _ := image(t, ref)
		for _, want := range []string{"10.11.12.13\tdevcache-added", "10.0.0.9\tother.test"} {
			if !strings.Contains(files["/hosts"], want) {
				t.Errorf("%s route: /etc/hosts lacks %q:\n%s", route, want, files["/hosts"])
			}
		}
	}
}
