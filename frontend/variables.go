package frontend

import (
	"context"
	"fmt"
	"maps"
	"path"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/devcache/devcache/devcontainer"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/pkg/errors"
)

// workspaceFolderArg is the build arg through which a buildx user gives the
// workspace's absolute path on the client, as the reference and the plugin
// know it: `--build-arg DEVCACHE_WORKSPACE_FOLDER=$PWD`. It supplies
// ${localWorkspaceFolder}, ${localWorkspaceFolderBasename} and the default
// of ${containerWorkspaceFolder} (/workspaces/<basename>).
const workspaceFolderArg = "DEVCACHE_WORKSPACE_FOLDER"

// defaultWorkspaceName is the workspace's assumed name when neither
// workspaceFolderArg nor buildx's git attributes give one.
const defaultWorkspaceName = "workspace"

// Frontend options buildx sets when the build context is inside a git
// work tree (BUILDX_GIT_INFO, on by default): the remote's URL, and the
// context's directory relative to the work tree's root.
const (
	vcsSourceOpt       = "vcs:source"
	vcsLocalContextOpt = "vcs:localdir:context"
)

// workspaceAssumedRule names the warning in build output and in
// `--call check`.
const workspaceAssumedRule = "WorkspaceFolderAssumed"

// windowsPathRE matches an absolute Windows path (C:\ or C:/).
var windowsPathRE = regexp.MustCompile(`^[A-Za-z]:[\\/]`)

// clientVariables are the build-time variables of the buildx route, built
// from build args: the frontend sees neither the client's environment nor
// its workspace path. Substitution itself is devcontainer's.
type clientVariables struct {
	vars *devcontainer.Variables
	// assumed is the workspace path the frontend assumed ("" when the
	// client gave one) and nameFrom where its name came from.
	assumed, nameFrom string
	// used is set when a substituted value drew on the assumed path.
	used   atomic.Bool
	warned sync.Once
}

// variablesFrom reads the build args: ${localEnv:NAME} and ${env:NAME} take
// build arg NAME (`--build-arg NAME` makes buildx send the client's
// variable; an arg not sent is unset), and workspaceFolderArg gives the
// workspace path. Without it the path is assumed (see assumeWorkspace) and
// a use of it is recorded for warn.
func variablesFrom(opts, buildArgs map[string]string) (*clientVariables, error) {
	env := maps.Clone(buildArgs)
	cv := &clientVariables{vars: &devcontainer.Variables{
		LocalEnv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
	}}
	if ws, ok := buildArgs[workspaceFolderArg]; ok && ws != "" {
		p, err := workspacePath(ws)
		if err != nil {
			return nil, err
		}
		cv.vars.LocalWorkspaceFolder = p
		return cv, nil
	}
	name, from := assumeWorkspace(opts)
	cv.assumed, cv.nameFrom = path.Join("/workspaces", name), from
	cv.vars.LocalWorkspaceFolder = cv.assumed
	cv.vars.WorkspaceFolderUsed = func() { cv.used.Store(true) }
	return cv, nil
}

// workspacePath checks workspaceFolderArg's value and returns it as a clean
// slash path (a Windows path's backslashes become slashes, as the plugin
// writes it).
func workspacePath(ws string) (string, error) {
	if windowsPathRE.MatchString(ws) {
		ws = strings.ReplaceAll(ws, `\`, "/")
	} else if !path.IsAbs(ws) {
		return "", errors.Errorf("build arg %s: %q is not an absolute path; pass the workspace folder's absolute path, e.g. --build-arg %s=$PWD",
			workspaceFolderArg, ws, workspaceFolderArg)
	}
	return path.Clean(ws), nil
}

// assumeWorkspace is the best name the frontend has for a workspace the
// client did not name, and where it came from: the build context's
// directory inside its git work tree, else the repository's name in the
// git remote (a clone's usual folder name), else defaultWorkspaceName.
func assumeWorkspace(opts map[string]string) (name, from string) {
	if dir := opts[vcsLocalContextOpt]; dir != "" {
		if n := path.Base(strings.ReplaceAll(dir, `\`, "/")); validName(n) {
			return n, "the build context's directory in its git work tree"
		}
	}
	if src := opts[vcsSourceOpt]; src != "" {
		src = strings.TrimSuffix(strings.TrimRight(src, "/"), ".git")
		if i := strings.LastIndexAny(src, "/:"); i >= 0 {
			src = src[i+1:]
		}
		if validName(src) {
			return src, "the git remote's repository name"
		}
	}
	return defaultWorkspaceName, "no name known"
}

func validName(n string) bool {
	return n != "" && n != "." && n != ".." && n != "/" && !strings.ContainsAny(n, `/\`)
}

// ownConfig parses the entry file for a build without a client Plan: in
// its location in the build context (see parseInContext), with the
// variables the build args give.
func ownConfig(ctx context.Context, bc *dockerui.Client, bctx *buildCtx, src *dockerui.Source) (*devcontainer.Config, *clientVariables, error) {
	cv, err := variablesFrom(bc.BuildOpts().Opts, bc.BuildArgs)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := parseInContext(ctx, bctx, src.Filename, src.Data, cv.vars)
	if err != nil {
		return nil, nil, err
	}
	return cfg, cv, nil
}

// warning is the text of the warning about the assumed workspace, or ""
// when nothing assumed reached a substituted value.
func (cv *clientVariables) warning() string {
	if cv.assumed == "" || !cv.used.Load() {
		return ""
	}
	return fmt.Sprintf("the client's workspace folder is unknown, assumed %s (name: %s) for ${localWorkspaceFolder}, "+
		"${localWorkspaceFolderBasename} and the default ${containerWorkspaceFolder}; "+
		"pass the workspace's absolute path with --build-arg %s=$PWD",
		cv.assumed, cv.nameFrom, workspaceFolderArg)
}

// warn emits the warning as a BuildKit build warning (shown by
// `docker buildx build`), once per build.
func (cv *clientVariables) warn(ctx context.Context, src *dockerui.Source) {
	msg := cv.warning()
	if msg == "" {
		return
	}
	cv.warned.Do(func() {
		src.Warn(ctx, workspaceAssumedRule+": "+msg, client.WarnOpts{})
	})
}

// lint adds the warning to `docker buildx build --call check` results.
func (cv *clientVariables) lint(res *lint.LintResults, src *dockerui.Source) {
	if msg := cv.warning(); msg != "" {
		idx := res.AddSource(src.SourceMap)
		res.AddWarning(workspaceAssumedRule, "The workspace folder had to be assumed", "", msg, idx, nil)
	}
}
