package features

import (
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

func obj(t *testing.T, s string) *jsonc.Object {
	t.Helper()
	v, err := jsonc.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*jsonc.Object)
}

func meta(t *testing.T, s string) *Metadata {
	t.Helper()
	m, err := ParseMetadata("test/devcontainer-feature.json", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// C10: the reference's getSafeId table.
func TestSafeID(t *testing.T) {
	for in, want := range map[string]string{
		"option-name": "OPTION_NAME", "option1-name-with_dashes-": "OPTION1_NAME_WITH_DASHES_",
		"myOptionName": "MYOPTIONNAME", "1name": "_NAME", "12345_option-name": "_OPTION_NAME",
		"__foo": "_FOO", "9": "_", "Ümlaut": "_MLAUT", "a.b": "A_B", "x😀": "X__",
	} {
		if got := SafeID(in); got != want {
			t.Errorf("SafeID(%q) = %q, want %q", in, got, want)
		}
	}
}

// C11: option values → env lines.
func TestEnvLines(t *testing.T) {
	withVersion := meta(t, `{"id":"f","options":{"version":{"type":"string","default":"lts"},"pip":{"type":"boolean","default":true},"x":{"type":"string"}}}`)
	for _, c := range []struct {
		value string
		want  string
	}{
		{`true`, "VERSION=\"true\"\nPIP=\"true\""},
		{`"18"`, "VERSION=\"18\"\nPIP=\"true\""},
		{`{}`, "VERSION=\"lts\"\nPIP=\"true\""},
		{`{"pip":false,"extra":"y"}`, "VERSION=\"lts\"\nPIP=\"false\"\nEXTRA=\"y\""},
		{`{"version":3.10}`, "VERSION=\"3.1\"\nPIP=\"true\""},
		{`{"a":{"b":1},"n":null,"l":[1,"x",null]}`, "VERSION=\"lts\"\nPIP=\"true\"\nA=\"[object Object]\"\nN=\"null\"\nL=\"1,x,\""},
		{`{"q":"a\"$b` + "`" + `c"}`, "VERSION=\"lts\"\nPIP=\"true\"\nQ=\"a\"$b`c\""},
	} {
		v, _ := jsonc.Parse([]byte(c.value))
		if got := EnvFile(EnvLines(withVersion, v)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.value, got, c.want)
		}
	}
	noVersion := meta(t, `{"id":"f","options":{"pip":{"type":"boolean","default":true}}}`)
	if got := EnvFile(EnvLines(noVersion, "18")); got != `PIP="true"` {
		t.Errorf("no version option: %q", got)
	}
	buildArg := meta(t, `{"id":"f","buildArg":"_X","options":{"version":{"type":"string","default":"1"}}}`)
	if got := EnvFile(EnvLines(buildArg, obj(t, `{}`))); got != "VERSION=\"1\"\n_X=1" {
		t.Errorf("buildArg: %q", got)
	}
}

// C12: the wrapper script, as the reference's featureHelpers tests expect it.
func TestWrapperScript(t *testing.T) {
	tail := "echo ===========================================================================\n\nset -a\n. ../devcontainer-features.builtin.env\n. ./devcontainer-features.env\nset +a\n\nchmod +x ./install.sh\n./install.sh\n"
	empty := WrapperScript(&Metadata{ID: "test"}, "", "./test", nil)
	wantEmpty := "#!/bin/sh\nset -e\n\non_exit () {\n\t[ $? -eq 0 ] && exit\n\techo 'ERROR: Feature \"Unknown\" (./test) failed to install!'\n}\n\ntrap on_exit EXIT\n\n" +
		"echo ===========================================================================\n\n" +
		"echo 'Feature       : Unknown'\necho 'Description   : '\necho 'Id            : ./test'\necho 'Version       : '\necho 'Documentation : '\necho 'Options       :'\necho ''\n" + tail
	if empty != wantEmpty {
		t.Errorf("empty:\n%s\nwant:\n%s", empty, wantEmpty)
	}
	m := &Metadata{ID: "test", Name: "My Test Feature", Version: "1.2.3", Description: `This is an awesome feature (with ""quotes" for 'escaping' test)`, DocumentationURL: "https://my-test-feature.localhost"}
	opts := []string{"VERSION=latest", "OTHEROPTION=true"}
	head := "#!/bin/sh\nset -e\n\non_exit () {\n\t[ $? -eq 0 ] && exit\n\techo 'ERROR: Feature \"My Test Feature\" (ghcr.io/my-org/my-repo/test) failed to install! Look at the documentation at https://my-test-feature.localhost for help troubleshooting this error.'\n}\n\ntrap on_exit EXIT\n\necho ===========================================================================\n"
	body := "echo 'Feature       : My Test Feature'\necho 'Description   : This is an awesome feature (with \"\"quotes\" for '\\''escaping'\\'' test)'\necho 'Id            : ghcr.io/my-org/my-repo/test'\necho 'Version       : 1.2.3'\necho 'Documentation : https://my-test-feature.localhost'\necho 'Options       :'\necho '    VERSION=latest\n    OTHEROPTION=true'\n" + tail
	if got, want := WrapperScript(m, m.Name, "ghcr.io/my-org/my-repo/test", opts), head+"\n"+body; got != want {
		t.Errorf("full:\n%s\nwant:\n%s", got, want)
	}
	m.Deprecated = true
	if got, want := WrapperScript(m, m.Name, "ghcr.io/my-org/my-repo/test", opts), head+"echo '(!) WARNING: Using the deprecated Feature \"test\". This Feature will no longer receive any further updates/support.\n'\n"+body; got != want {
		t.Errorf("deprecated:\n%s\nwant:\n%s", got, want)
	}
	m.Deprecated = false
	m.LegacyIDs, m.CurrentID = []string{"test"}, "ghcr.io/my-org/my-repo/new-test"
	if got := WrapperScript(m, m.Name, "x", opts); !strings.Contains(got, "echo '(!) WARNING: This feature has been renamed. Please update the reference in devcontainer.json to \"ghcr.io/my-org/my-repo/new-test\".'\n") {
		t.Errorf("renamed:\n%s", got)
	}
}

// The reference's findContainerUsers cases.
func TestContainerUsers(t *testing.T) {
	e := func(s string) *jsonc.Object { return obj(t, s) }
	for _, c := range []struct {
		entries []*jsonc.Object
		compose string
		image   string
		cu, ru  string
	}{
		{[]*jsonc.Object{e(`{"containerUser":"metadataTestUser1"}`), e(`{"containerUser":"metadataTestUser2"}`)}, "composeUser", "imageUser", "metadataTestUser2", "metadataTestUser2"},
		{[]*jsonc.Object{e(`{"remoteEnv":{"foo":"bar"}}`)}, "composeUser", "imageUser", "composeUser", "composeUser"},
		{[]*jsonc.Object{e(`{"remoteEnv":{"foo":"bar"}}`)}, "", "imageUser", "imageUser", "imageUser"},
		{[]*jsonc.Object{e(`{"remoteUser":"metadataTestUser1"}`), e(`{"remoteUser":"metadataTestUser2"}`)}, "", "imageUser", "imageUser", "metadataTestUser2"},
		{[]*jsonc.Object{e(`{"remoteUser":"vscode"}`), e(`{"containerUser":""}`)}, "", "root", "root", "vscode"},
	} {
		u := ContainerUsers(c.entries, c.compose, c.image)
		if u.ContainerUser != c.cu || u.RemoteUser != c.ru {
			t.Errorf("%v: got %+v, want %s/%s", c.entries, u, c.cu, c.ru)
		}
	}
	u := Users{ContainerUser: "it's", RemoteUser: "a.b"}
	if got := HomeLookupCommand(u.ContainerUser); got != ` (command -v getent >/dev/null 2>&1 && getent passwd 'it\'s' || grep -E '^it\'s|^[^:]*:[^:]*:it\'s:' /etc/passwd || true)` {
		t.Errorf("escaping: %s", got)
	}
	if got := HomeLookupCommand(u.RemoteUser); !strings.Contains(got, `grep -E '^a\.b|`) {
		t.Errorf("regex escaping: %s", got)
	}
}

// Options comparison: fewer keys first, then sorted keys, mixed types equal.
func TestOptionsCompare(t *testing.T) {
	v := func(s string) jsonc.Value { x, _ := jsonc.Parse([]byte(s)); return x }
	for _, c := range []struct {
		a, b string
		want int
	}{
		{`{}`, `{"a":"1"}`, -1},
		{`{"a":"1","b":"1"}`, `{"z":"0"}`, 1},
		{`{"a":"b"}`, `{"a":"a"}`, 1},
		{`{"a":"true"}`, `{"a":true}`, 0},
		{`"latest"`, `{"version":"latest"}`, 1},
		{`true`, `"x"`, -1},
		{`false`, `true`, -1},
		{`{"B":"x"}`, `{"a":"x"}`, 1},
	} {
		if got := optionsCompare(v(c.a), v(c.b)); got != c.want {
			t.Errorf("optionsCompare(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	// Tag order is locale order, not semver.
	tags := []string{"latest", "2", "1.2", "1.10"}
	jsSort(tags, LocaleCompare)
	if strings.Join(tags, " ") != "1.10 1.2 2 latest" {
		t.Errorf("tags: %v", tags)
	}
}

// getRef cases of the reference's containerFeaturesOCI tests.
func TestParseOCIRef(t *testing.T) {
	r, err := ParseOCIRef("ghcr.io/devcontainers/features/Go:1.0.0")
	if err != nil || r.Registry != "ghcr.io" || r.Owner != "devcontainers" || r.Namespace != "devcontainers/features" ||
		r.Path != "devcontainers/features/go" || r.Resource != "ghcr.io/devcontainers/features/go" || r.ID != "go" || r.Tag != "1.0.0" || r.Version != "1.0.0" {
		t.Errorf("%+v %v", r, err)
	}
	r, err = ParseOCIRef("ghcr.io/codspace/features/ruby@sha256:abcdef")
	if err != nil || r.Digest != "sha256:abcdef" || r.Tag != "" || r.Version != "sha256:abcdef" {
		t.Errorf("%+v %v", r, err)
	}
	r, err = ParseOCIRef("localhost:5000/a/b")
	if err != nil || r.Registry != "localhost:5000" || r.Tag != "latest" || !r.Fetchable() {
		t.Errorf("%+v %v", r, err)
	}
	r, _ = ParseOCIRef("ghcr.io/devcontainers-contrib/features/x:1")
	if r.Path != "devcontainers-extra/features/x" || r.Resource != "ghcr.io/devcontainers-contrib/features/x" {
		t.Errorf("contrib rewrite: %+v", r)
	}
	for _, bad := range []string{"ghcr.io/x", "ghcr.io//z", ".ghcr.io/a/b", "ghcr.io/a/b@sha512:x", "ghcr.io/a@b/c", "ghcr.io/a/b%c", "ghcr.io/a/b:-x"} {
		if r, err := ParseOCIRef(bad); err == nil {
			t.Errorf("%q parsed: %+v", bad, r)
		}
	}
	if WithoutVersion("ghcr.io/a/b/c:1.2") != "ghcr.io/a/b/c" || WithoutVersion("localhost:5000/a/b") != "localhost:5000/a/b" || WithoutVersion("x/y@sha256:1") != "x/y" {
		t.Error("WithoutVersion")
	}
}

func TestParseRefKinds(t *testing.T) {
	rc := RefContext{ConfigPath: "/ws/.devcontainer/devcontainer.json", Workspace: "/ws"}
	rootRC := RefContext{ConfigPath: "/ws/.devcontainer.json", Workspace: "/ws"}
	r, err := ParseRef("node", rc)
	if err != nil || r.ID != "ghcr.io/devcontainers/features/node:1" || r.UserFeatureID != "node" || r.Kind != KindOCI {
		t.Errorf("auto-mapping: %+v %v", r, err)
	}
	if r, _ := ParseRef("common", rc); r.ID != "ghcr.io/devcontainers/features/common-utils:1" {
		t.Errorf("common: %+v", r)
	}
	r, err = ParseRef("https://example.com/x/devcontainer-feature-go.tgz", rc)
	if err != nil || r.Kind != KindTarball || r.FeatureID != "go" {
		t.Errorf("tarball: %+v %v", r, err)
	}
	for _, bad := range []string{"https://example.com/x/feature.tgz", "https://example.com/devcontainer-feature-.tgz", "https://example.com/devcontainer-feature-a.b.tgz"} {
		if _, err := ParseRef(bad, rc); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	r, err = ParseRef("./a", rc)
	if err != nil || r.LocalPath != "/ws/.devcontainer/a" || r.FeatureID != "a" {
		t.Errorf("local: %+v %v", r, err)
	}
	if _, err := ParseRef("./.devcontainer/a", rootRC); err != nil {
		t.Errorf("root config local: %v", err)
	}
	for _, bad := range []struct {
		ref string
		rc  RefContext
	}{{"./a", rootRC}, {"../featureC", rootRC}, {"/some/long/path/to/helloworld", rc}, {"./a..b", rc}, {"../x", rc}} {
		if _, err := ParseRef(bad.ref, bad.rc); err == nil {
			t.Errorf("%q accepted", bad.ref)
		}
	}
	if _, err := ParseRef("codspace/myfeatures/helloworld", rc); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("GitHub-release form: %v", err)
	}
	if _, err := ParseRef("myfeature", rc); err == nil || !strings.Contains(err.Error(), `prepend your Feature name with "./"`) {
		t.Errorf("legacy: %v", err)
	}
}

func TestMapDeprecatedFeatures(t *testing.T) {
	out := MapDeprecatedFeatures([]UserFeature{{Key: "gradle", Options: true}, {Key: "java", Options: "17"}, {Key: "jupyterlab", Options: obj(t, `{}`)}})
	var got []string
	for _, f := range out {
		got = append(got, f.Key+"="+jsonc.Stringify(f.Options))
	}
	want := `java={"version":"17","installGradle":true} ghcr.io/devcontainers/features/python:1={"installJupyterlab":true}`
	if strings.Join(got, " ") != want {
		t.Errorf("got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// jsSort mimics V8 for inconsistent comparators too: with a comparator that
// says every pair is equal the order is kept.
func TestJSSortStable(t *testing.T) {
	s := []int{3, 1, 2, 5, 4}
	jsSort(s, func(a, b int) int { return 0 })
	if s[0] != 3 || s[4] != 4 {
		t.Errorf("%v", s)
	}
	s = []int{5, 4, 3, 2, 1, 9, 0}
	jsSort(s, func(a, b int) int { return a - b })
	for i := 1; i < len(s); i++ {
		if s[i-1] > s[i] {
			t.Fatalf("%v", s)
		}
	}
}

func TestDecodeMetadataErrorsNameFields(t *testing.T) {
	for in, want := range map[string]string{
		`{"options":{"a":"x"}}`:    `x.json:1: options.a: must be an object`,
		`{"containerEnv":{"A":1}}`: `x.json:1: containerEnv.A: must be a string`,
		`{"dependsOn":[]}`:         `x.json:1: dependsOn: must be an object`,
		`{"installsAfter":[1]}`:    `x.json:1: installsAfter[0]: must be a string`,
		"{\n\"version\": 1}":       `x.json:2: version: must be a string`,
		`[]`:                       `x.json: must contain a JSON object`,
	} {
		_, err := ParseMetadata("x.json", []byte(in))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %s", in, err, want)
		}
	}
}
