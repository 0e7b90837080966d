package tfprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/probe"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/resolver"

	// Compose configs: compose-go, registered as compose.Load's loader.
	_ "github.com/devcache/devcache/devcontainer/compose/composego"
)

// defaultTimeout is the CLI's --timeout default.
const defaultTimeout = 2 * time.Minute

// attrError is an invalid attribute value.
type attrError struct{ attr, msg string }

func invalid(attr, format string, args ...any) *attrError {
	return &attrError{attr: attr, msg: fmt.Sprintf(format, args...)}
}

// request is a checked configuration of the data source.
type request struct {
	m       cachedImageModel
	repo    name.Repository
	maxAge  time.Duration
	timeout time.Duration
	git     *cloneOptions // nil: m.WorkspaceFolder
}

// request checks what can be checked without network or files.
func (m cachedImageModel) request() (*request, *attrError) {
	r := &request{m: m, timeout: defaultTimeout}
	var err error
	if r.repo, err = cache.ParseRepository(m.CacheRepo.ValueString()); err != nil {
		return nil, invalid("cache_repo", "cache_repo %v", err)
	}
	if s := m.MaxAge.ValueString(); s != "" {
		if r.maxAge, err = cache.ParseDuration(s); err != nil {
			return nil, invalid("max_age", "max_age: %v", err)
		}
	}
	if s := m.Timeout.ValueString(); s != "" {
		if r.timeout, err = cache.ParseDuration(s); err != nil {
			return nil, invalid("timeout", "timeout: %v", err)
		}
	}
	hasGit, hasFolder := m.GitURL.ValueString() != "", m.WorkspaceFolder.ValueString() != ""
	if hasGit == hasFolder {
		return nil, invalid("git_url", "set exactly one of git_url (a repository to clone) and workspace_folder (a local folder)")
	}
	if hasGit {
		if r.git, err = m.cloneOptions(); err != nil {
			return nil, invalid("git_clone_depth", "%v", err)
		}
	}
	return r, nil
}

// run clones the repository (if any) into a temporary directory, probes
// the workspace and removes the directory.
func (r *request) run(ctx context.Context) (*probe.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "devcache-tf-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	folder := r.m.WorkspaceFolder.ValueString()
	if r.git != nil {
		if folder, err = clone(ctx, filepath.Join(tmp, "src"), r.git); err != nil {
			return nil, err
		}
	}
	ro, err := r.resolveOptions(filepath.Join(tmp, "registry"), folder)
	if err != nil {
		return nil, err
	}
	res, err := probe.Probe(ctx, probe.Options{Repo: r.repo, Resolve: ro, MaxAge: r.maxAge, MaxAgeName: "max_age", Created: true})
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w (timed out after %s; raise timeout)", err, r.timeout)
	}
	return res, err
}

// resolveOptions are the probe's resolution options: the workspace, its
// platforms and source policy, and the registry access, whose credential
// and CA files are written under dir.
func (r *request) resolveOptions(dir, folder string) (resolver.Options, error) {
	var ro resolver.Options
	config := r.m.Config.ValueString()
	if config != "" && !filepath.IsAbs(config) {
		config = filepath.Join(folder, config)
	}
	ws, err := resolver.FindWorkspace(folder, config)
	if err != nil {
		return ro, fmt.Errorf("config: %w", err)
	}
	pol, err := policy.Parse(r.m.Allow)
	if err != nil {
		return ro, fmt.Errorf("allow: %w", err)
	}
	reg, err := r.registry(dir)
	if err != nil {
		return ro, err
	}
	return resolver.Options{Workspace: ws, Platforms: r.m.Platforms, Registry: reg, Policy: pol}, nil
}

// registry is the registry access of the attributes: the credentials of
// docker_config_base64 (else the ambient docker config), mirrors, CAs and
// plain-HTTP hosts.
func (r *request) registry(dir string) (*registry.Client, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	creds := registry.LoadCredentials("")
	if s := r.m.DockerConfigBase64.ValueString(); s != "" {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("docker_config_base64: not base64: %w", err)
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("docker_config_base64: the decoded value is not a docker config.json (JSON with \"auths\")")
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
			return nil, err
		}
		creds = registry.LoadCredentials(dir)
	}
	mirrors, err := registry.ParseMirrors(r.m.RegistryMirrors)
	if err != nil {
		return nil, fmt.Errorf("registry_mirrors %w", err)
	}
	var caFiles []string
	if pem := r.m.RegistryCAPEM.ValueString(); pem != "" {
		f := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(f, []byte(pem), 0o600); err != nil {
			return nil, err
		}
		caFiles = append(caFiles, f)
	}
	c, err := registry.New(registry.WithKeychain(creds), registry.WithCAFiles(caFiles),
		registry.WithMirrors(mirrors), registry.WithInsecure(r.m.InsecureRegistries))
	if err != nil {
		return nil, fmt.Errorf("registry_ca_pem: %w", err)
	}
	return c, nil
}
