package frontend

import (
	"context"

	"github.com/devcache/devcache/devcontainer"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

// subrequests answers `docker buildx build --call targets|outline|check`: a
// devcontainer.json has one target, the dev container image, and the build
// args devcache reads.
func subrequests(bc *dockerui.Client) dockerui.RequestHandler {
	describe := func(ctx context.Context) (string, string, error) {
		src, err := bc.ReadEntrypoint(ctx, "JSON")
		if err != nil {
			return "", "", err
		}
		cfg, err := devcontainer.Parse(src.Filename, src.Data, nil)
		if err != nil {
			return "", "", err
		}
		name, _ := cfg.Raw.Get("name")
		s, _ := name.(string)
		base := cfg.Image
		if cfg.Build != nil {
			base = cfg.Build.Dockerfile
		}
		return s, base, nil
	}
	return dockerui.RequestHandler{
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			name, base, err := describe(ctx)
			if err != nil {
				return nil, err
			}
			desc := "the dev container image"
			if name != "" {
				desc += " of " + name
			}
			return &targets.List{Targets: []targets.Target{{Name: "devcontainer", Default: true, Description: desc, Base: base}}}, nil
		},
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			name, _, err := describe(ctx)
			if err != nil {
				return nil, err
			}
			args := []outline.Arg{
				{Name: "SOURCE_DATE_EPOCH", Description: "Unix time for image and history timestamps (reproducible builds)"},
				{Name: configPathArg, Description: "Path of devcontainer.json inside the build context (found by content when unset)"},
				{Name: allowBuildArg, Description: "Source policy: comma-separated patterns of allowed images and features"},
				{Name: workspaceFolderArg, Description: "Absolute path of the workspace on the client, for ${localWorkspaceFolder} and the default ${containerWorkspaceFolder} (assumed, with a warning, when unset)"},
			}
			envArgs, err := localEnvArgs(ctx, bc, args)
			if err != nil {
				return nil, err
			}
			return &outline.Outline{Name: "devcontainer", Description: name, Args: append(args, envArgs...)}, nil
		},
		Lint: func(ctx context.Context) (*lint.LintResults, error) {
			return check(ctx, bc)
		},
	}
}

// check answers `--call check`: the config's warnings (an assumed workspace
// folder) without building. A base image's metadata, read only while
// building, is not checked.
func check(ctx context.Context, bc *dockerui.Client) (*lint.LintResults, error) {
	src, err := bc.ReadEntrypoint(ctx, "JSON")
	if err != nil {
		return nil, err
	}
	vars, err := variablesFrom(bc.BuildOpts().Opts, bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	if _, err := devcontainer.Parse(src.Filename, src.Data, vars.vars); err != nil {
		return nil, err
	}
	res := &lint.LintResults{}
	vars.lint(res, src)
	return res, nil
}

// localEnvArgs lists, in order of first use, the variables the config reads
// with ${localEnv:NAME} or ${env:NAME}: the build args a buildx user passes
// (`--build-arg NAME` sends the client's value).
// Names already in known are left out.
func localEnvArgs(ctx context.Context, bc *dockerui.Client, known []outline.Arg) ([]outline.Arg, error) {
	src, err := bc.ReadEntrypoint(ctx, "JSON")
	if err != nil {
		return nil, err
	}
	var args []outline.Arg
	seen := map[string]bool{}
	for _, a := range known {
		seen[a.Name] = true
	}
	vars := &devcontainer.Variables{LocalEnv: func(name string) (string, bool) {
		if !seen[name] {
			seen[name] = true
			args = append(args, outline.Arg{Name: name, Description: "${localEnv:" + name + "} in " + src.Filename, Value: bc.BuildArgs[name]})
		}
		return bc.BuildArgs[name], true
	}}
	if _, err := devcontainer.Parse(src.Filename, src.Data, vars); err != nil {
		return nil, err
	}
	return args, nil
}
