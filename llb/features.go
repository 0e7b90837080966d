package llb

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// Paths inside the image, as the reference uses them.
const (
	FeaturesDir    = "/tmp/dev-container-features"
	BuiltinEnvFile = FeaturesDir + "/devcontainer-features.builtin.env"
	featuresSrcDir = "/tmp/build-features-src"
	envFileName    = "devcontainer-features.env"
	wrapperName    = "devcontainer-features-install.sh"
)

// EnvVar is one environment variable, kept in source order.
type EnvVar struct {
	Name, Value string
}

// FeatureInstall is one feature instance to install, fully resolved.
type FeatureInstall struct {
	// Dir is the staging directory name, "<id>_<n>" with n the 0-based
	// index in the install order.
	Dir string
	// Name names the feature in progress output (its reference as written).
	Name string
	// Payload holds the feature's files at its root (install.sh, ...).
	Payload bkllb.State
	// EnvFile and Wrapper are the generated devcontainer-features.env and
	// devcontainer-features-install.sh.
	EnvFile, Wrapper []byte
	// ContainerEnv is the feature's containerEnv in key order; values are
	// expanded like Dockerfile ENV against the environment at that point.
	ContainerEnv []EnvVar
}

// FeatureSet is everything the features section of a build adds.
type FeatureSet struct {
	// BuiltinEnv is devcontainer-features.builtin.env as the client writes
	// it (_CONTAINER_USER and _REMOTE_USER lines), and HomesScript the shell
	// line that appends the users' home directories inside the image.
	BuiltinEnv, HomesScript string
	// ImageUser is the user the image had before the features (the
	// Dockerfile's last USER or the base's; "" means root). It is restored,
	// explicitly, after the features.
	ImageUser string
	Features  []FeatureInstall
	// ConfigEnv is the config's containerEnv: baked literally after the
	// features, except that ${containerEnv:VAR} is resolved against the
	// image's environment at that point.
	ConfigEnv []EnvVar
}

// Options are per-build settings of the compile step.
type Options struct {
	// Epoch, when set, is the time of every history entry and file written.
	Epoch *time.Time
}

// ApplyFeatures installs the features on top of base (whose image config
// is img) as the reference does: the built-in env file, then for each
// feature its containerEnv and one RUN layer that copies the staged feature
// in, runs its wrapper and removes it; then the original user and the
// config's containerEnv. With no features it returns base and img as they are.
func ApplyFeatures(base bkllb.State, img *dockerspec.DockerOCIImage, fs FeatureSet, o Options) (bkllb.State, *dockerspec.DockerOCIImage, error) {
	if len(fs.Features) == 0 {
		return base, img, nil
	}
	out := cloneImage(img)
	created := o.Epoch
	fileTime := time.Unix(0, 0).UTC()
	if o.Epoch != nil {
		fileTime = *o.Epoch
	}
	env := newEnvList(out.Config.Env)
	shellArgs := []string{"/bin/sh", "-c"}
	if len(out.Config.Shell) > 0 {
		shellArgs = append([]string(nil), out.Config.Shell...)
	}
	workdir := out.Config.WorkingDir
	if workdir == "" {
		workdir = "/"
	}
	run := func(st bkllb.State, cmd, name string, opts ...bkllb.RunOption) bkllb.State {
		ro := []bkllb.RunOption{
			bkllb.Args(append(append([]string(nil), shellArgs...), cmd)),
			bkllb.User("root"),
			bkllb.Dir(workdir),
			bkllb.WithCustomName(name),
		}
		for _, kv := range env.list {
			ro = append(ro, bkllb.AddEnv(kv.Name, kv.Value))
		}
		return st.Run(append(ro, opts...)...).Root()
	}
	history := func(createdBy string, layer bool) {
		out.History = append(out.History, ocispecs.History{
			Created: created, CreatedBy: createdBy, Comment: HistoryComment, EmptyLayer: !layer,
		})
	}

	// The built-in variables: the two users (known now) in one file layer,
	// then their home directories, looked up inside the image before any
	// feature runs.
	st := base.File(
		bkllb.Mkdir(FeaturesDir, 0o755, bkllb.WithParents(true), bkllb.WithCreatedTime(fileTime)).
			Mkfile(BuiltinEnvFile, 0o755, []byte(fs.BuiltinEnv), bkllb.WithCreatedTime(fileTime)),
		bkllb.WithCustomName("[devcontainer] write "+BuiltinEnvFile),
	)
	history("COPY devcontainer-features.builtin.env "+FeaturesDir+"/", true)
	if fs.HomesScript != "" {
		st = run(st, fs.HomesScript, "[devcontainer] look up the users' home directories")
		history("RUN "+fs.HomesScript, true)
	}

	lex := shell.NewLex('\\')
	for _, f := range fs.Features {
		for _, kv := range f.ContainerEnv {
			// The reference writes ENV K="v" with '"' and '\' escaped (not
			// '$'), and the Dockerfile ENV expands it: so do we.
			v, _, err := lex.ProcessWord(`"`+dockerfileQuoteEscaper.Replace(kv.Value)+`"`, env)
			if err != nil {
				return bkllb.State{}, nil, errors.Wrapf(err, "feature %s: containerEnv %s", f.Name, kv.Name)
			}
			env.set(kv.Name, v)
			history(fmt.Sprintf("ENV %s=%q", kv.Name, v), false)
		}
		staging := bkllb.Scratch().File(
			bkllb.Copy(f.Payload, "/", "/", &bkllb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, AllowWildcard: false}).
				Mkfile("/"+envFileName, 0o644, f.EnvFile, bkllb.WithCreatedTime(fileTime)).
				Mkfile("/"+wrapperName, 0o755, f.Wrapper, bkllb.WithCreatedTime(fileTime)),
			bkllb.WithCustomName("[devcontainer] stage feature "+f.Name),
		)
		src := featuresSrcDir + "/" + f.Dir
		dst := FeaturesDir + "/" + f.Dir
		cmd := fmt.Sprintf("cp -ar %s %s && chmod -R 0755 %s && cd %s && chmod +x ./%s && ./%s && rm -rf %s",
			src, FeaturesDir, dst, dst, wrapperName, wrapperName, dst)
		st = run(st, cmd, "[devcontainer] install feature "+f.Name,
			bkllb.AddMount(src, staging, bkllb.Readonly))
		history("RUN "+cmd, true)
	}

	user := fs.ImageUser
	if user == "" {
		user = "root"
	}
	out.Config.User = user
	history("USER "+user, false)

	for _, kv := range fs.ConfigEnv {
		v := resolveContainerEnv(kv.Value, env)
		env.set(kv.Name, v)
		history(fmt.Sprintf("ENV %s=%q", kv.Name, v), false)
	}
	out.Config.Env = env.strings()
	out.Created = created
	return st, out, nil
}

var dockerfileQuoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

var containerEnvRef = regexp.MustCompile(`\$\{containerEnv:([^}:]*)(?::([^}]*))?\}`)

// resolveContainerEnv replaces ${containerEnv:VAR[:default]} with VAR's
// value in env (or the default), so that "PATH": "/x:${containerEnv:PATH}"
// extends the image's PATH instead of baking the literal text.
func resolveContainerEnv(v string, env *envList) string {
	return containerEnvRef.ReplaceAllStringFunc(v, func(m string) string {
		sub := containerEnvRef.FindStringSubmatch(m)
		if val, ok := env.Get(sub[1]); ok {
			return val
		}
		return sub[2]
	})
}

// envList is an ordered environment with Dockerfile semantics: setting an
// existing name replaces its value in place.
type envList struct {
	list []EnvVar
}

func newEnvList(env []string) *envList {
	l := &envList{}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		l.set(k, v)
	}
	return l
}

func (l *envList) set(k, v string) {
	for i := range l.list {
		if l.list[i].Name == k {
			l.list[i].Value = v
			return
		}
	}
	l.list = append(l.list, EnvVar{k, v})
}

// Get implements shell.EnvGetter.
func (l *envList) Get(k string) (string, bool) {
	for _, kv := range l.list {
		if kv.Name == k {
			return kv.Value, true
		}
	}
	return "", false
}

// Keys implements shell.EnvGetter.
func (l *envList) Keys() []string {
	keys := make([]string, len(l.list))
	for i, kv := range l.list {
		keys[i] = kv.Name
	}
	return keys
}

func (l *envList) strings() []string {
	out := make([]string, len(l.list))
	for i, kv := range l.list {
		out[i] = kv.Name + "=" + kv.Value
	}
	return out
}
