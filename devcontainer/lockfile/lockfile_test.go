package lockfile

import (
	"strings"
	"testing"
)

func TestParseErrorsNameFileAndField(t *testing.T) {
	for in, want := range map[string]string{
		`{"features": {"a": {"integrity": 1}}}`: `devcontainer-lock.json:1: features["a"].integrity: must be a string`,
		`{"feat": {}}`:                          `devcontainer-lock.json:0: features: must be an object`,
		`{"features": {},}`:                     `devcontainer-lock.json: invalid JSON`,
	} {
		_, err := Parse("devcontainer-lock.json", []byte(in))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %s", in, err, want)
		}
	}
}

func TestBytesAndRoundTrip(t *testing.T) {
	lf := Generate([]Feature{
		{Key: "b", Version: "1", Resolved: "r/b@sha256:1", Integrity: "sha256:1"},
		{Key: "A", Resolved: "r/a@sha256:2", Integrity: "sha256:2", DependsOn: []string{"b"}},
		{Key: "b", Version: "2", Resolved: "r/b@sha256:3", Integrity: "sha256:3"},
	})
	want := "{\n  \"features\": {\n    \"A\": {\n      \"resolved\": \"r/a@sha256:2\",\n      \"integrity\": \"sha256:2\",\n      \"dependsOn\": [\n        \"b\"\n      ]\n    },\n    \"b\": {\n      \"version\": \"2\",\n      \"resolved\": \"r/b@sha256:3\",\n      \"integrity\": \"sha256:3\"\n    }\n  }\n}\n"
	if got := string(lf.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	back, err := Parse("x", lf.Bytes())
	if err != nil || string(back.Bytes()) != want {
		t.Errorf("round trip: %v", err)
	}
	if empty := string((&Lockfile{}).Bytes()); empty != "{\n  \"features\": {}\n}\n" {
		t.Errorf("empty: %q", empty)
	}
}
