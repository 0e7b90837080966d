package tfprovider

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// cloneOptions say what to clone and how.
type cloneOptions struct {
	url      string
	ref      string // "" is the remote's HEAD
	depth    int    // 0: whole history
	auth     transport.AuthMethod
	proxyURL string
}

// commitHash matches a full commit hash in git_ref.
var commitHash = regexp.MustCompile(`^[0-9a-f]{40}$`)

// cloneOptions turns the git_* attributes into clone options.
func (m cachedImageModel) cloneOptions() (*cloneOptions, error) {
	o := &cloneOptions{url: m.GitURL.ValueString(), ref: m.GitRef.ValueString(), depth: 1, proxyURL: m.GitHTTPProxy.ValueString()}
	if !m.GitCloneDepth.IsNull() {
		if d := m.GitCloneDepth.ValueInt64(); d < 0 {
			return nil, fmt.Errorf("git_clone_depth %d: give 0 (whole history) or more", d)
		} else {
			o.depth = int(d)
		}
	}
	if commitHash.MatchString(o.ref) {
		o.depth = 0 // a commit is fetched with the history holding it
	}
	if key := m.GitSSHPrivateKey.ValueString(); key != "" {
		user := "git"
		if u := m.GitUsername.ValueString(); u != "" {
			user = u
		}
		auth, err := gitssh.NewPublicKeys(user, []byte(key), "")
		if err != nil {
			return nil, fmt.Errorf("git_ssh_private_key: %w", err)
		}
		o.auth = auth
	} else if m.GitUsername.ValueString() != "" || m.GitPassword.ValueString() != "" {
		o.auth = &githttp.BasicAuth{Username: m.GitUsername.ValueString(), Password: m.GitPassword.ValueString()}
	}
	return o, nil
}

// clone clones o into dir/<repository name> and returns that folder: the
// workspace folder keeps the repository's name, as a dev container's
// ${localWorkspaceFolderBasename} (and so the key) may depend on it.
func clone(ctx context.Context, dir string, o *cloneOptions) (string, error) {
	folder := filepath.Join(dir, repoName(o.url))
	co := &git.CloneOptions{URL: o.url, Auth: o.auth, Depth: o.depth, SingleBranch: o.ref != "" && !commitHash.MatchString(o.ref)}
	if o.proxyURL != "" {
		co.ProxyOptions = transport.ProxyOptions{URL: o.proxyURL}
	}
	if co.SingleBranch {
		co.ReferenceName = refName(o.ref)
	}
	repo, err := git.PlainCloneContext(ctx, folder, false, co)
	if err != nil && co.SingleBranch && !strings.HasPrefix(o.ref, "refs/") {
		// Not a branch: try the tag of that name.
		co.ReferenceName = plumbing.NewTagReferenceName(o.ref)
		repo, err = git.PlainCloneContext(ctx, folder, false, co)
	}
	if err != nil {
		return "", fmt.Errorf("cloning git_url %s%s: %w", o.url, refSuffix(o.ref), err)
	}
	if commitHash.MatchString(o.ref) {
		wt, err := repo.Worktree()
		if err != nil {
			return "", err
		}
		if err := wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(o.ref)}); err != nil {
			return "", fmt.Errorf("checking out git_ref %s of %s: %w", o.ref, o.url, err)
		}
	}
	return folder, nil
}

// refName is a branch name, or a full refs/... name as given.
func refName(ref string) plumbing.ReferenceName {
	if strings.HasPrefix(ref, "refs/") {
		return plumbing.ReferenceName(ref)
	}
	return plumbing.NewBranchReferenceName(ref)
}

func refSuffix(ref string) string {
	if ref == "" {
		return ""
	}
	return " (git_ref " + ref + ")"
}

// repoName is the last path segment of a git URL without ".git"
// ("https://host/acme/app.git" and "git@host:acme/app" are "app").
func repoName(url string) string {
	u := strings.TrimRight(url, "/")
	if i := strings.LastIndexAny(u, "/:"); i >= 0 {
		u = u[i+1:]
	}
	u = strings.TrimSuffix(path.Base(u), ".git")
	if u == "" || u == "." {
		return "workspace"
	}
	return u
}
