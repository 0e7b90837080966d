package plan_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/devcache/devcache/devcontainer/jsonc"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
)

type orderExpectation struct {
	Order []struct {
		UserFeatureID string          `json:"userFeatureId"`
		Options       json.RawMessage `json:"options"`
	} `json:"order"`
	Error string `json:"error"`
}

// TestOrderConformance covers C14–C19: the install order of the reference's
// ordering fixtures (testdata/devcontainer/order/*/expected.json holds the
// order the reference's own tests assert).
func TestOrderConformance(t *testing.T) {
	dirs, _ := filepath.Glob(testdata(t, "order/*"))
	if len(dirs) < 9 {
		t.Fatalf("found %d ordering fixtures", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var want orderExpectation
			data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			res, err := planFor(t, dir, newResolver(t, resolve.Options{}), plan.Options{})
			if want.Error != "" {
				if err == nil || err.Error() != want.Error {
					t.Fatalf("error = %v, want %q", err, want.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Plan.Features {
				got = append(got, f.UserFeatureID+" "+f.Options)
			}
			var exp []string
			for _, o := range want.Order {
				v, err := jsonc.Parse(o.Options)
				if err != nil {
					t.Fatal(err)
				}
				exp = append(exp, o.UserFeatureID+" "+jsonc.Stringify(v))
			}
			if len(got) != len(exp) {
				t.Fatalf("order = %q\nwant    %q", got, exp)
			}
			for i := range got {
				if got[i] != exp[i] {
					t.Fatalf("order = %q\nwant    %q", got, exp)
				}
			}
			// Staging folder names carry the install index.
			for i, f := range res.Plan.Features {
				if want := f.ID + "_" + itoa(i); f.ConsecutiveID != want {
					t.Errorf("feature %d consecutive id %q, want %q", i, f.ConsecutiveID, want)
				}
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
