package tfprovider

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestCloneRefs: git_ref names a branch, a tag, a refs/ name or a commit
// (default: the remote's HEAD), shallow by default, into a folder named
// after the repository.
func TestCloneRefs(t *testing.T) {
	root := t.TempDir()
	bare, work := gitRepo(t, root, `{"image": "one"}`)
	first := gitRun(t, work, "rev-parse", "HEAD")
	gitRun(t, work, "tag", "v1")
	if err := os.WriteFile(filepath.Join(work, ".devcontainer", "devcontainer.json"), []byte(`{"image": "two"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, work, "commit", "-q", "-am", "two")
	gitRun(t, work, "push", "-q", bare, "HEAD:refs/heads/main", "v1")
	gitRun(t, work, "push", "-q", bare, "HEAD~1:refs/heads/old")
	for ref, want := range map[string]string{"": "two", "main": "two", "old": "one", "v1": "one", "refs/heads/main": "two", first: "one"} {
		m := cachedImageModel{GitURL: types.StringValue("file://" + bare), GitRef: types.StringValue(ref)}
		o, err := m.cloneOptions()
		if err != nil {
			t.Fatal(err)
		}
		dir, err := clone(context.Background(), t.TempDir(), o)
		if err != nil {
			t.Errorf("git_ref %q: %v", ref, err)
			continue
		}
		if filepath.Base(dir) != "app" {
			t.Errorf("git_ref %q: cloned into %s, want a folder named app", ref, dir)
		}
		got, err := os.ReadFile(filepath.Join(dir, ".devcontainer", "devcontainer.json"))
		if err != nil || string(got) != `{"image": "`+want+`"}` {
			t.Errorf("git_ref %q: devcontainer.json = %q, %v; want image %s", ref, got, err, want)
		}
	}
	m := cachedImageModel{GitURL: types.StringValue("file://" + bare), GitRef: types.StringValue("nope")}
	o, _ := m.cloneOptions()
	if _, err := clone(context.Background(), t.TempDir(), o); err == nil {
		t.Errorf("git_ref nope: no error")
	}
}

func TestRepoName(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/app.git": "app", "https://github.com/acme/app/": "app",
		"git@github.com:acme/app.git": "app", "file:///srv/git/app.git": "app", "ssh://git@host:22/app": "app",
	} {
		if got := repoName(in); got != want {
			t.Errorf("repoName(%q) = %q, want %q", in, got, want)
		}
	}
}
