package plan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/jsonc"
	"github.com/devcache/devcache/devcontainer/lockfile"
)

// Resolver pins features and images.
type Resolver interface {
	features.Resolver
	// ResolveImage pins an image for a platform and reads its config.
	ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error)
}

// LockMode is how the lockfile is used.
type LockMode int

const (
	// LockUse reads the lockfile's pins when present (the reference's
	// default).
	LockUse LockMode = iota
	// LockFrozen requires the lockfile to exist and match.
	LockFrozen
	// LockNone ignores the lockfile.
	LockNone
)

// Options are the inputs of ForWorkspace besides the workspace.
type Options struct {
	// ConfigPath is an explicit config (resolved against the current
	// directory); "" discovers it.
	ConfigPath string
	Resolver   Resolver
	// Platform is os/arch[/variant]; default linux/<GOARCH>.
	Platform string
	// LookupEnv supplies ${localEnv:…}; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Environ is the environment ("K=V") Docker Compose files are
	// interpolated with; default os.Environ(). The frontend passes its
	// build args.
	Environ []string
	Lock    LockMode
	// SkipCustomizations drops feature customizations from the label.
	SkipCustomizations bool
	// ReadFile reads the config's neighbours (lockfile, Dockerfile) by
	// their slash path; default os.ReadFile. The frontend reads them from
	// the build's inputs instead of a disk.
	ReadFile func(path string) ([]byte, error)
}

func (o Options) readFile(p string) ([]byte, error) {
	if o.ReadFile != nil {
		return o.ReadFile(p)
	}
	return os.ReadFile(filepath.FromSlash(p))
}

// Result is a computed Plan with what was learnt on the way.
type Result struct {
	Plan     *Plan
	Config   *devcontainer.Config
	Installs []*features.Install
	// Lockfile is the lockfile the reference would write (nil without
	// features) and LockState the one found on disk.
	Lockfile  *lockfile.Lockfile
	LockState *lockfile.State
}

// ForWorkspace finds, parses and resolves the workspace's config and
// computes its Plan.
func ForWorkspace(ctx context.Context, workspace string, o Options) (*Result, error) {
	ws, err := filepath.Abs(workspace)
	if err != nil {
		return nil, err
	}
	cfgPath, err := devcontainer.Find(ws, o.ConfigPath)
	if err != nil {
		return nil, err
	}
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	cfg, err := devcontainer.Load(ws, cfgPath, &devcontainer.Variables{LocalEnv: lookup, LocalWorkspaceFolder: filepath.ToSlash(ws)})
	if err != nil {
		return nil, err
	}
	return ForConfig(ctx, ws, cfg, o)
}

// ForConfig computes the Plan of a parsed config of the workspace ws.
func ForConfig(ctx context.Context, ws string, cfg *devcontainer.Config, o Options) (*Result, error) {
	if o.Resolver == nil {
		return nil, errors.New("plan: no resolver")
	}
	platform := o.Platform
	if platform == "" {
		platform = "linux/" + runtime.GOARCH
	}
	wsSlash := filepath.ToSlash(ws)
	p := &Plan{FormatVersion: FormatVersion, Platform: platform, ConfigFile: rel(wsSlash, cfg.Path), Base: Base{Kind: cfg.Kind}, Features: []Feature{}}
	res := &Result{Plan: p, Config: cfg}

	// The base image: its user and metadata entries.
	var (
		baseImage   *devcontainer.Image
		serviceUser string // a Compose service's user
	)
	switch cfg.Kind {
	case devcontainer.KindImage:
		img, err := o.Resolver.ResolveImage(ctx, cfg.Image, platform)
		if err != nil {
			return nil, cfg.Errorf("image", "image", "%v", err)
		}
		baseImage = img
		p.Base.Image = img
	case devcontainer.KindDockerfile:
		df, img, user, err := dockerfileBase(ctx, wsSlash, cfg, o, platform)
		if err != nil {
			return nil, err
		}
		p.Base.Dockerfile = df
		p.Base.Image = img
		baseImage = img
		p.ImageUser = user
	case devcontainer.KindCompose:
		base, user, svcUser, err := composeBase(ctx, wsSlash, cfg, o, platform)
		if err != nil {
			return nil, err
		}
		p.Base = *base
		baseImage, p.ImageUser, serviceUser = base.Image, user, svcUser
	}
	if cfg.Kind == devcontainer.KindImage {
		p.ImageUser = baseImage.User
	}
	if p.ImageUser == "" {
		p.ImageUser = "root"
	}
	var baseEntries []*jsonc.Object
	if baseImage != nil {
		baseEntries = devcontainer.ParseMetadataLabel(baseImage.Labels[devcontainer.MetadataLabelKey])
	}

	// Features, in install order.
	var lockState *lockfile.State
	pins := map[string]string{}
	if len(cfg.Features) > 0 && o.Lock != LockNone {
		st, err := lockfile.ReadWith(o.readFile, filepath.ToSlash(lockfile.Path(filepath.FromSlash(cfg.Path))))
		if err != nil {
			return nil, err
		}
		lockState = st
		if st.Lock != nil {
			pins = st.Lock.Pins()
		}
	}
	var installs []*features.Install
	if len(cfg.Features) > 0 {
		user := make([]features.UserFeature, len(cfg.Features))
		for i, f := range cfg.Features {
			user[i] = features.UserFeature{Key: f.Key, Options: f.Value}
		}
		order, err := features.Order(ctx, user, features.OrderOptions{
			RefContext: features.RefContext{ConfigPath: cfg.Path, Workspace: wsSlash},
			Resolver:   o.Resolver,
			Override:   cfg.OverrideFeatureInstallOrder,
			Pins:       pins,
			ErrorFor:   cfg.FeatureError,
		})
		if err != nil {
			return nil, err
		}
		installs, err = features.Installs(order, features.InstallOptions{SkipCustomizations: o.SkipCustomizations})
		if err != nil {
			return nil, err
		}
		res.Lockfile = lockfile.FromInstalls(installs)
		res.LockState = lockState
		if o.Lock == LockFrozen {
			if lockState == nil {
				lockState = &lockfile.State{}
			}
			if _, err := lockfile.Check(lockState, res.Lockfile, true); err != nil {
				return nil, err
			}
		}
	}
	res.Installs = installs

	// The label, then the users from the substituted entries.
	entries := append([]*jsonc.Object(nil), baseEntries...)
	for _, in := range installs {
		entries = append(entries, in.Entry)
	}
	entries = append(entries, cfg.MetadataEntry())
	if label, ok := devcontainer.MetadataLabel(entries); ok {
		p.MetadataLabel = label
	}
	if len(installs) > 0 {
		var subst []*jsonc.Object
		for _, e := range baseEntries {
			v, err := cfg.Substitute(e)
			if err != nil {
				return nil, fmt.Errorf("base image metadata: %w", err)
			}
			subst = append(subst, v.(*jsonc.Object))
		}
		for _, in := range installs {
			subst = append(subst, in.Entry)
		}
		subst = append(subst, cfg.SubstitutedMetadataEntry())
		users := features.ContainerUsers(subst, serviceUser, p.ImageUser)
		p.Users = &users
		p.BuiltinEnv = users.BuiltinEnv()
		p.HomesScript = users.BuiltinHomesScript()
		p.ContainerEnv = cfg.ContainerEnv
	}
	for _, in := range installs {
		p.Features = append(p.Features, planFeature(wsSlash, in))
	}
	return res, nil
}

func planFeature(ws string, in *features.Install) Feature {
	n := in.Node
	f := Feature{
		Index: in.Index, ID: in.Metadata.ID, ConsecutiveID: in.ConsecutiveID, UserFeatureID: n.UserFeatureID,
		Options: jsonc.Stringify(n.Options), Version: in.Metadata.Version,
		EnvFile: features.EnvFile(in.EnvLines), Wrapper: in.Wrapper, ContainerEnv: in.Metadata.ContainerEnv,
	}
	s := n.Source
	f.Source = Source{Kind: n.Ref.Kind, ContentDigest: s.ContentDigest}
	switch n.Ref.Kind {
	case features.KindOCI:
		f.Source.Repository = n.Ref.OCI.Registry + "/" + n.Ref.OCI.Path
		f.Source.ManifestDigest, f.Source.LayerDigest, f.Source.LayerSize = s.ManifestDigest, s.LayerDigest, s.LayerSize
	case features.KindTarball:
		f.Source.URL, f.Source.SHA256 = n.Ref.TarballURL, s.TarballDigest
	case features.KindLocal:
		f.Source.Path = rel(ws, n.Ref.LocalPath)
	}
	return f
}

// rel is p relative to the workspace when inside it, else p.
func rel(ws, p string) string {
	if r, err := filepath.Rel(filepath.FromSlash(ws), filepath.FromSlash(p)); err == nil && filepath.IsLocal(r) {
		return filepath.ToSlash(r)
	}
	return p
}
