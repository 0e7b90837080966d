package frontend

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// variablesConfig uses every build-time variable in containerEnv (baked
// as ENV because a feature is present); workspaceFolder is inserted.
func variablesConfig(s *stack.Stack, workspaceFolder string) string {
	wf := ""
	if workspaceFolder != "" {
		wf = `"workspaceFolder": "` + workspaceFolder + `",`
	}
	return `{
  "image": "` + s.Ref("busybox:latest") + `",` + wf + `
  "features": {"./hello": {"greeting": "${localEnv:DEVCACHE_TEST_VAR:none}"}},
  "containerEnv": {
    "FROM_LOCAL": "${localEnv:SOME_UNSET_VAR:fallback}",
    "NO_DEFAULT": "[${localEnv:SOME_UNSET_VAR}]",
    "FROM_ARG": "${localEnv:DEVCACHE_TEST_VAR}",
    "FROM_ENV": "${env:DEVCACHE_TEST_VAR:unused}",
    "EMPTY_ARG": "[${localEnv:DEVCACHE_TEST_EMPTY:unused}]",
    "WS": "${containerWorkspaceFolder}",
    "WS_BASE": "${containerWorkspaceFolderBasename}",
    "LOCAL_WS": "${localWorkspaceFolder}|${localWorkspaceFolderBasename}"
  },
  "remoteUser": "root"
}`
}

func variablesWorkspace(t *testing.T, s *stack.Stack, workspaceFolder string) string {
	return writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":               variablesConfig(s, workspaceFolder),
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
	})
}

// envOf returns the image config's Env as a map.
func envOf(t *testing.T, ref string) map[string]string {
	t.Helper()
	cfg, _, _ := image(t, ref)
	env := map[string]string{}
	for _, e := range cfg.Config.Env {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	return env
}

func assumedWarnings(r *buildResult) []string {
	var out []string
	for _, w := range r.warnings {
		if strings.Contains(string(w.Short), workspaceAssumedRule) {
			out = append(out, string(w.Short))
		}
	}
	return out
}

// TestBuildxVariables builds through the frontend without a client Plan,
// as `docker buildx build` with the syntax line does: ${localEnv:…} takes
// build args (unset gives the default or ""), workspaceFolder feeds
// ${containerWorkspaceFolder}, DEVCACHE_WORKSPACE_FOLDER gives the
// workspace path, and an assumed path is used with a warning naming the
// build arg.
func TestBuildxVariables(t *testing.T) {
	s := stacktest.Get(t)
	for _, tc := range []struct {
		name, workspaceFolder string
		attrs                 map[string]string
		want                  map[string]string
		warn                  bool
	}{{
		name:            "workspaceFolder stated",
		workspaceFolder: "/workspaces/x",
		attrs: map[string]string{"build-arg:DEVCACHE_TEST_VAR": "from arg", "build-arg:DEVCACHE_TEST_EMPTY": "",
			"vcs:source": "https://example.com/acme/shop"},
		want: map[string]string{"FROM_LOCAL": "fallback", "NO_DEFAULT": "[]", "FROM_ARG": "from arg", "FROM_ENV": "from arg",
			"EMPTY_ARG": "[]", "WS": "/workspaces/x", "WS_BASE": "x", "LOCAL_WS": "/workspaces/shop|shop"},
		// ${localWorkspaceFolder} still had to be assumed.
		warn: true,
	}, {
		name:  "workspace build arg",
		attrs: map[string]string{"build-arg:" + workspaceFolderArg: "/home/me/proj", "vcs:source": "https://example.com/acme/shop.git"},
		want: map[string]string{"FROM_LOCAL": "fallback", "NO_DEFAULT": "[]", "FROM_ARG": "", "FROM_ENV": "unused",
			"EMPTY_ARG": "[unused]", "WS": "/workspaces/proj", "WS_BASE": "proj", "LOCAL_WS": "/home/me/proj|proj"},
	}, {
		name:  "workspace assumed",
		attrs: map[string]string{"vcs:source": "git@example.com:acme/shop.git"},
		want:  map[string]string{"FROM_ARG": "", "WS": "/workspaces/shop", "WS_BASE": "shop", "LOCAL_WS": "/workspaces/shop|shop"},
		warn:  true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ws := variablesWorkspace(t, s, tc.workspaceFolder)
			ref := s.Ref("frontend/variables:" + strings.ReplaceAll(tc.name, " ", "-"))
			res, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, tc.attrs)
			if err != nil {
				t.Fatal(err)
			}
			env := envOf(t, ref)
			for k, v := range tc.want {
				if env[k] != v {
					t.Errorf("%s = %q, want %q", k, env[k], v)
				}
			}
			warned := assumedWarnings(res)
			switch {
			case tc.warn && len(warned) != 1:
				t.Errorf("want one %s warning, got %q", workspaceAssumedRule, warned)
			case tc.warn && !strings.Contains(warned[0], "--build-arg "+workspaceFolderArg+"="):
				t.Errorf("the warning does not name the build arg: %s", warned[0])
			case !tc.warn && len(warned) > 0:
				t.Errorf("unexpected warnings: %q", warned)
			}
		})
	}
}

// TestBuildxWorkspaceFolderWithoutWarning: a config that states
// workspaceFolder and uses no local workspace variable builds without the
// build arg and without a warning.
func TestBuildxWorkspaceFolderWithoutWarning(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `", "workspaceFolder": "/workspaces/x",
  "workspaceMount": "source=${localWorkspaceFolder},target=/workspaces/x,type=bind",
  "features": {"./hello": {}}, "containerEnv": {"WS": "${containerWorkspaceFolder}"}, "remoteUser": "root"}`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
	})
	ref := s.Ref("frontend/variables:workspace-folder")
	res, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := envOf(t, ref)["WS"]; got != "/workspaces/x" {
		t.Errorf("WS = %q, want /workspaces/x", got)
	}
	if w := assumedWarnings(res); len(w) > 0 {
		t.Errorf("unexpected warnings: %q", w)
	}
}

// TestCallCheckListsAssumedWorkspace runs the lint subrequest (`docker
// buildx build --call check`): it lists the warning when the workspace has
// to be assumed, and nothing when the build arg gives it.
func TestCallCheckListsAssumedWorkspace(t *testing.T) {
	s := stacktest.Get(t)
	ws := variablesWorkspace(t, s, "")
	for _, tc := range []struct {
		attrs map[string]string
		want  int
	}{
		{nil, 1},
		{map[string]string{"build-arg:" + workspaceFolderArg: "/home/me/proj"}, 0},
	} {
		attrs := map[string]string{"requestid": lint.SubrequestLintDefinition.Name}
		maps.Copy(attrs, tc.attrs)
		// buildx reads the result's metadata inside its build function.
		var meta map[string][]byte
		solveWith(t, s, ws, ".devcontainer/devcontainer.json", attrs, func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
			res, err := Build(ctx, c)
			if res != nil {
				meta = res.Metadata
			}
			return res, err
		}, nil)
		var results lint.LintResults
		if err := json.Unmarshal(meta["result.json"], &results); err != nil {
			t.Fatalf("result.json: %v (%q)", err, meta)
		}
		if len(results.Warnings) != tc.want {
			t.Errorf("attrs %v: %d warnings, want %d: %+v", tc.attrs, len(results.Warnings), tc.want, results.Warnings)
		}
		for _, w := range results.Warnings {
			if w.RuleName != workspaceAssumedRule || !strings.Contains(w.Detail, workspaceFolderArg) {
				t.Errorf("warning %+v", w)
			}
		}
	}
}

// TestCallOutlineListsLocalEnv: `--call outline` lists the variables the
// config reads with ${localEnv:…}, the build args a buildx user passes.
func TestCallOutlineListsLocalEnv(t *testing.T) {
	s := stacktest.Get(t)
	ws := variablesWorkspace(t, s, "")
	var meta map[string][]byte
	solveWith(t, s, ws, ".devcontainer/devcontainer.json", map[string]string{"requestid": "frontend.outline"}, func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		res, err := Build(ctx, c)
		if res != nil {
			meta = res.Metadata
		}
		return res, err
	}, nil)
	var o outline.Outline
	if err := json.Unmarshal(meta["result.json"], &o); err != nil {
		t.Fatalf("result.json: %v (%q)", err, meta)
	}
	var names []string
	for _, a := range o.Args {
		names = append(names, a.Name)
	}
	for _, want := range []string{workspaceFolderArg, "DEVCACHE_TEST_VAR", "SOME_UNSET_VAR", "DEVCACHE_TEST_EMPTY"} {
		if !slices.Contains(names, want) {
			t.Errorf("outline args %q lack %s", names, want)
		}
	}
}

// TestPluginAndFrontendPlansAgree computes a Plan the plugin's way
// (plan.ForWorkspace with the client's environment and workspace) and the
// frontend's way (the functions Build uses, through the gateway, with the
// same values as build args): the two are byte-identical.
func TestPluginAndFrontendPlansAgree(t *testing.T) {
	s := stacktest.Get(t)
	ctx := context.Background()
	// An OCI feature resolved from its tag, a tarball feature (which the
	// plugin downloads itself and the frontend through the daemon), and a
	// local feature (with a subfolder and a link) whose content digest the
	// frontend computes from the build context.
	reg := resolvetest.StartRegistry(t)
	files := resolvetest.StartFiles(t)
	refuseOwnHTTP(t)
	src := writeTree(t, map[string]string{
		"world/devcontainer-feature.json": `{"id": "world", "version": "2.0.0"}`,
		"world/install.sh":                "#!/bin/sh\n",
		"tar/devcontainer-feature.json":   `{"id": "tar", "version": "1.2.0", "options": {"v": {"type": "string", "default": "d"}}}`,
		"tar/install.sh":                  "#!/bin/sh\n",
	})
	pub := reg.PublishFeature(t, filepath.Join(src, "world"), "features/world", nil, "2", "2.0.0")
	tarURL := files.Put("/devcontainer-feature-tar.tgz", resolvetest.FeatureTar(t, filepath.Join(src, "tar")))
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":               strings.Replace(variablesConfig(s, ""), `"features": {`, `"features": {"`+pub.Ref+`": {}, "`+tarURL+`": {}, `, 1),
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
		".devcontainer/hello/lib/util.sh":               "echo util\n",
	})
	if err := os.Symlink("lib/util.sh", filepath.Join(ws, ".devcontainer", "hello", "util.sh")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DEVCACHE_TEST_VAR": `a "quoted" $value`, "DEVCACHE_TEST_EMPTY": ""}
	res, err := plan.ForWorkspace(ctx, ws, plan.Options{
		Resolver: resolve.New(resolve.Options{HTTPClient: files.Client}), Platform: "linux/amd64",
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{"platform": "linux/amd64", "build-arg:" + workspaceFolderArg: filepath.ToSlash(ws)}
	for k, v := range env {
		attrs["build-arg:"+k] = v
	}
	got := frontendPlan(t, s, ws, attrs)
	for _, f := range got.Features {
		if f.Source.ContentDigest == "" {
			t.Errorf("feature %s: no content digest", f.UserFeatureID)
		}
	}
	if !slices.ContainsFunc(got.Features, func(f plan.Feature) bool { return f.Source.URL == tarURL && f.Source.SHA256 != "" }) {
		t.Errorf("the tarball feature %s is not in the frontend's Plan with its digest: %+v", tarURL, got.Features)
	}
	want, have := res.Plan.JSON(), got.JSON()
	if string(want) != string(have) {
		t.Errorf("the frontend's Plan differs from the plugin's:\nplugin:   %s\nfrontend: %s", want, have)
	}
	for _, e := range got.ContainerEnv {
		if strings.Contains(e.Value, "${") {
			t.Errorf("%s = %q: a variable left unsubstituted", e.Name, e.Value)
		}
	}
	if !slices.ContainsFunc(got.ContainerEnv, func(e devcontainer.EnvVar) bool { return e.Value == env["DEVCACHE_TEST_VAR"] }) {
		t.Errorf("the build arg did not reach containerEnv: %+v", got.ContainerEnv)
	}
}

// solveWith runs f (or the frontend) against the stack with ws as the
// context, without exporting, and hands the response to check.
func solveWith(t *testing.T, s *stack.Stack, ws, configRel string, attrs map[string]string, f gateway.BuildFunc, check func(*client.SolveResponse)) {
	t.Helper()
	ctx := context.Background()
	c, err := s.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctxFS, err := fsutil.NewFS(ws)
	if err != nil {
		t.Fatal(err)
	}
	dfFS, err := fsutil.NewFS(filepath.Join(ws, filepath.Dir(filepath.FromSlash(configRel))))
	if err != nil {
		t.Fatal(err)
	}
	fa := map[string]string{"filename": filepath.Base(configRel)}
	maps.Copy(fa, attrs)
	opt := client.SolveOpt{FrontendAttrs: fa, LocalMounts: map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS}}
	ch := make(chan *client.SolveStatus)
	eg, ectx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ectx, opt, "", f, ch)
		return err
	})
	eg.Go(func() error {
		for range ch {
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	if check != nil {
		check(resp)
	}
}

func TestAssumeWorkspace(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{nil, defaultWorkspaceName},
		{map[string]string{vcsSourceOpt: "https://github.com/acme/shop.git"}, "shop"},
		{map[string]string{vcsSourceOpt: "git@github.com:acme/shop.git"}, "shop"},
		{map[string]string{vcsSourceOpt: "https://github.com/acme/shop/"}, "shop"},
		{map[string]string{vcsSourceOpt: "https://github.com/acme/shop", vcsLocalContextOpt: "."}, "shop"},
		{map[string]string{vcsSourceOpt: "https://github.com/acme/shop", vcsLocalContextOpt: "services/api"}, "api"},
		{map[string]string{vcsSourceOpt: "/"}, defaultWorkspaceName},
	} {
		if got, _ := assumeWorkspace(tc.opts); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.opts, got, tc.want)
		}
	}
	for in, want := range map[string]string{"/home/me/proj/": "/home/me/proj", `C:\src\proj`: "C:/src/proj"} {
		if got, err := workspacePath(in); err != nil || got != want {
			t.Errorf("workspacePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := workspacePath("proj"); err == nil || !strings.Contains(err.Error(), workspaceFolderArg) {
		t.Errorf("relative path: %v", err)
	}
}
