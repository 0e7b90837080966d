package devcontainer

import (
	"errors"
	"fmt"
	"net"
	"path"
	"strings"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// Build is a Dockerfile-based config's build: `build.*`, or the legacy
// top-level `dockerFile` and `context`.
type Build struct {
	// Dockerfile is the Dockerfile path as written and Path it resolved
	// against the config's directory (posix resolve; absolute paths allowed).
	Dockerfile string
	Path       string
	// Context is the build context, resolved against the config's directory.
	// It defaults to the Dockerfile's directory, as in the reference (the
	// spec's "." is not what the CLI does).
	Context string
	// Args are `build.args`, substituted, in key order.
	Args []EnvVar
	// Target is `build.target`.
	Target string
	// CacheFrom is `build.cacheFrom` (a string or an array).
	CacheFrom []string
	// Options are the `build.options` the frontend can honour.
	Options BuildOptions
	// Contexts are named build contexts, in name order: a Compose
	// build's additional_contexts (devcontainer.json has none).
	Contexts []NamedContext
}

// NamedContext is a named build context, as `docker buildx build
// --build-context NAME=VALUE` gives one.
type NamedContext struct {
	Name string
	// Path is a local directory (absolute, slash-separated), or Image an
	// image reference (docker-image://Image); one of them is set.
	Path, Image string
}

// BuildOptions are the `docker build` flags of `build.options` that a
// BuildKit frontend can honour. Any other flag is rejected by Parse.
type BuildOptions struct {
	Labels   []EnvVar `json:"labels,omitempty"`   // --label k=v
	AddHosts []string `json:"addHosts,omitempty"` // --add-host host:ip, kept as host=ip (see addHost)
	Network  string   `json:"network,omitempty"`  // --network none|host|default
	NoCache  bool     `json:"noCache,omitempty"`  // --no-cache
	Pull     bool     `json:"pull,omitempty"`     // --pull
	ShmSize  string   `json:"shmSize,omitempty"`  // --shm-size
	Ulimits  []string `json:"ulimits,omitempty"`  // --ulimit
	// BuildArgs are --build-arg K=V tokens; they follow build.args, as
	// the reference appends options after its --build-args.
	BuildArgs []EnvVar `json:"buildArgs,omitempty"`
}

func (c *Config) parseBuild() (*Build, error) {
	b := &Build{}
	var buildObj *jsonc.Object
	if bv, ok := c.Substituted.Get("build"); ok && bv != nil {
		o, isObj := bv.(*jsonc.Object)
		if !isObj {
			return nil, c.errorf("build", "must be an object")
		}
		buildObj = o
	}
	// The reference: 'dockerFile' in config ? config.dockerFile : config.build.dockerfile,
	// and the context likewise from the same place.
	var dfField, ctxField string
	var dfVal, ctxVal jsonc.Value
	if v, ok := c.Substituted.Get("dockerFile"); ok {
		dfField, dfVal = "dockerFile", v
		ctxField = "context"
		ctxVal, _ = c.Substituted.Get("context")
	} else {
		dfField, dfVal = "build.dockerfile", mustGet(buildObj, "dockerfile")
		ctxField = "build.context"
		ctxVal = mustGet(buildObj, "context")
	}
	df, ok := dfVal.(string)
	if !ok || df == "" {
		return nil, c.Errorf(topKey(dfField), dfField, "must be a non-empty string (the Dockerfile's path relative to %s)", path.Base(c.File))
	}
	b.Dockerfile = df
	b.Path = resolvePosix(c.Dir(), df)
	if ctxVal != nil && jsonc.Truthy(ctxVal) {
		cs, isStr := ctxVal.(string)
		if !isStr {
			return nil, c.Errorf(topKey(ctxField), ctxField, "must be a string")
		}
		b.Context = resolvePosix(c.Dir(), cs)
	} else {
		b.Context = path.Dir(b.Path)
	}
	if buildObj == nil {
		return b, nil
	}
	if av, ok := buildObj.Get("args"); ok && av != nil {
		ao, isObj := av.(*jsonc.Object)
		if !isObj {
			return nil, c.Errorf("build", "build.args", "must be an object")
		}
		for _, k := range ao.Keys() {
			v, _ := ao.Get(k)
			switch v.(type) {
			case string, jsonc.Number, bool:
			default:
				return nil, &Error{File: c.File, Line: lineOf(c.Raw, "build", "args", k), Field: FieldKey("build.args", k), Err: errors.New("must be a string")}
			}
			b.Args = append(b.Args, EnvVar{Name: k, Value: jsonc.ToString(v)})
		}
	}
	if tv, ok := buildObj.Get("target"); ok && tv != nil {
		s, isStr := tv.(string)
		if !isStr {
			return nil, c.Errorf("build", "build.target", "must be a string")
		}
		b.Target = s
	}
	if cv, ok := buildObj.Get("cacheFrom"); ok && cv != nil {
		switch t := cv.(type) {
		case string:
			b.CacheFrom = []string{t}
		case []jsonc.Value:
			for i, e := range t {
				s, isStr := e.(string)
				if !isStr {
					return nil, c.Errorf("build", FieldIndex("build.cacheFrom", i), "must be a string")
				}
				b.CacheFrom = append(b.CacheFrom, s)
			}
		default:
			return nil, c.Errorf("build", "build.cacheFrom", "must be a string or an array of strings")
		}
	}
	if ov, ok := buildObj.Get("options"); ok && ov != nil {
		arr, isArr := ov.([]jsonc.Value)
		if !isArr {
			return nil, c.Errorf("build", "build.options", "must be an array of docker build arguments")
		}
		var toks []string
		for i, e := range arr {
			s, isStr := e.(string)
			if !isStr {
				return nil, c.Errorf("build", FieldIndex("build.options", i), "must be a string")
			}
			toks = append(toks, s)
		}
		opts, idx, err := parseBuildOptions(toks)
		if err != nil {
			return nil, &Error{File: c.File, Line: lineOf(c.Raw, "build", "options"), Field: FieldIndex("build.options", idx), Err: err}
		}
		b.Options = opts
	}
	return b, nil
}

// supportedBuildOptions lists what parseBuildOptions accepts, for errors.
const supportedBuildOptions = "--label, --add-host, --network, --build-arg, --no-cache, --pull, --shm-size, --ulimit"

// parseBuildOptions maps the docker build tokens of build.options onto what
// a BuildKit frontend can honour. On error it returns the index of the
// offending token.
func parseBuildOptions(toks []string) (BuildOptions, int, error) {
	var o BuildOptions
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		name, val, hasVal := strings.Cut(tok, "=")
		if !strings.HasPrefix(name, "-") {
			return o, i, fmt.Errorf("%q is not a flag; a BuildKit frontend takes no positional docker build arguments", tok)
		}
		takesValue := map[string]bool{"--label": true, "--add-host": true, "--network": true, "--build-arg": true, "--shm-size": true, "--ulimit": true}
		switch name {
		case "--no-cache", "--pull":
			if hasVal && val != "true" {
				if val == "false" {
					continue
				}
				return o, i, fmt.Errorf("%s takes no value", name)
			}
			if name == "--no-cache" {
				o.NoCache = true
			} else {
				o.Pull = true
			}
			continue
		}
		if !takesValue[name] {
			return o, i, fmt.Errorf("docker build option %q cannot be honoured by a BuildKit frontend; supported: %s", name, supportedBuildOptions)
		}
		if !hasVal {
			if i+1 >= len(toks) {
				return o, i, fmt.Errorf("%s needs a value", name)
			}
			i++
			val = toks[i]
		}
		switch name {
		case "--label":
			k, v, _ := strings.Cut(val, "=")
			o.Labels = append(o.Labels, EnvVar{Name: k, Value: v})
		case "--build-arg":
			k, v, _ := strings.Cut(val, "=")
			o.BuildArgs = append(o.BuildArgs, EnvVar{Name: k, Value: v})
		case "--add-host":
			h, err := addHost(val)
			if err != nil {
				return o, i, err
			}
			o.AddHosts = append(o.AddHosts, h)
		case "--network":
			switch val {
			case "none", "host", "default":
				o.Network = val
			default:
				return o, i, fmt.Errorf("--network %s: only none, host and default are possible in a BuildKit frontend", val)
			}
		case "--shm-size":
			o.ShmSize = val
		case "--ulimit":
			o.Ulimits = append(o.Ulimits, val)
		}
	}
	return o, 0, nil
}

// addHost turns a docker build --add-host value (host:ip or host=ip; an
// IPv6 address possibly in brackets) into the host=ip form BuildKit's
// Dockerfile frontend takes in its add-hosts option, as buildx does.
func addHost(v string) (string, error) {
	host, ip, ok := strings.Cut(v, "=")
	if !ok {
		host, ip, ok = strings.Cut(v, ":")
	}
	if len(ip) > 2 && ip[0] == '[' && ip[len(ip)-1] == ']' {
		ip = ip[1 : len(ip)-1]
	}
	if !ok || host == "" || net.ParseIP(ip) == nil {
		return "", fmt.Errorf("--add-host %s: want host:ip with an IP address (host-gateway is not available to a BuildKit frontend)", v)
	}
	return host + "=" + ip, nil
}

func mustGet(o *jsonc.Object, key string) jsonc.Value {
	v, _ := o.Get(key)
	return v
}

func topKey(field string) string {
	if i := strings.IndexAny(field, ".["); i >= 0 {
		return field[:i]
	}
	return field
}

// lineOf finds the line of a nested key path in o (the deepest known).
func lineOf(o *jsonc.Object, keys ...string) int {
	line := 0
	cur := o
	for _, k := range keys {
		if cur == nil {
			break
		}
		if l := cur.Line(k); l > 0 {
			line = l
		}
		v, _ := cur.Get(k)
		cur, _ = v.(*jsonc.Object)
	}
	return line
}

// resolvePosix is path.posix.resolve(dir, p).
func resolvePosix(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}
