package builder

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/platforms"
	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/connhelper/commandconn"
	"github.com/moby/buildkit/client"
	"github.com/pkg/errors"

	// Connection helpers for --buildkit-host URLs (docker-container://,
	// kube-pod://, ssh://).
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// Options say which builder to connect to.
type Options struct {
	// Host is a BuildKit address (--buildkit-host, BUILDKIT_HOST); when
	// set, the buildx builders are not consulted.
	Host string
	// DockerCli finds the buildx builder; nil allows Host only.
	DockerCli command.Cli
	// Name is the buildx builder ("" for the current one).
	Name string
	// CacheExport refuses a builder that cannot export the layer cache
	// (the classic docker driver) up front, with what to do instead,
	// rather than failing late, after the build.
	CacheExport bool
}

// Info is what a command may need to know about the builder.
type Info struct {
	// Moby is the Docker engine's embedded BuildKit (buildx's docker
	// driver): its image exporter is "moby" and it loads into the engine.
	Moby bool
}

// Part is the share of a build one builder node does: the platforms it
// builds (in the order asked) and a client connected to it.
type Part struct {
	Node      string
	Platforms []string
	Client    *client.Client
}

// Connect connects to the builder for all platforms on one node: o.Host
// when given, otherwise the named or current buildx builder's node for
// the first platform (its first node without platforms).
func Connect(ctx context.Context, o Options) (*client.Client, Info, error) {
	parts, info, err := ConnectPlatforms(ctx, o, nil)
	if err != nil {
		return nil, info, err
	}
	return parts[0].Client, info, nil
}

// ConnectPlatforms connects to the nodes that build ps, as buildx routes
// them: each platform to the first node that declares it (`docker buildx
// create --platform`), platforms no node declares to the first node. One
// Part per node used, in the order of their first platform in ps; with o.Host
// or a builder of one node, one Part of all ps. Nodes are reached directly
// when their address is plain (the Docker engine of the current context,
// a remote driver's tcp:// or unix:// without TLS files), otherwise through
// `docker buildx dial-stdio`, which speaks to any driver.
func ConnectPlatforms(ctx context.Context, o Options, ps []string) ([]Part, Info, error) {
	var info Info
	if o.Host != "" {
		c, err := client.New(ctx, o.Host)
		if err != nil {
			return nil, info, errors.Wrapf(err, "connect to BuildKit at %s", o.Host)
		}
		return []Part{{Node: o.Host, Platforms: ps, Client: c}}, info, nil
	}
	if o.DockerCli == nil {
		return nil, info, errors.New("no buildx builder without the docker CLI: pass --buildkit-host ADDR (or BUILDKIT_HOST)")
	}
	ng, err := findGroup(o.DockerCli, o.Name)
	if err != nil {
		return nil, info, errors.Wrap(err, "find the buildx builder (use --builder NAME or --buildkit-host ADDR)")
	}
	if len(ng.Nodes) == 0 {
		return nil, info, fmt.Errorf("buildx builder %q has no nodes (docker buildx create --append adds one)", ng.Name)
	}
	info.Moby = ng.Driver == "docker"
	var parts []Part
	for _, r := range route(ng, ps) {
		c, err := connectNode(ctx, o.DockerCli, ng, r.node, len(ng.Nodes) > 1)
		if err == nil && o.CacheExport && info.Moby {
			err = canExportCache(ctx, c, ng)
		}
		if err != nil {
			Close(parts)
			return nil, info, err
		}
		parts = append(parts, Part{Node: ng.Nodes[r.node].Name, Platforms: r.platforms, Client: c})
	}
	return parts, info, nil
}

// Close closes every part's client.
func Close(parts []Part) {
	for _, p := range parts {
		p.Client.Close()
	}
}

type routed struct {
	node      int
	platforms []string
}

// route assigns each platform of ps to the first node of ng declaring it,
// or to the first node; nodes in the order of their first platform.
func route(ng *nodeGroup, ps []string) []routed {
	var out []routed
	at := map[int]int{}
	add := func(node int, p string) {
		i, ok := at[node]
		if !ok {
			i = len(out)
			at[node] = i
			out = append(out, routed{node: node})
		}
		if p != "" {
			out[i].platforms = append(out[i].platforms, p)
		}
	}
	if len(ps) == 0 {
		add(0, "")
	}
	for _, p := range ps {
		add(nodeFor(ng, p), p)
	}
	return out
}

// nodeFor is the index of the first node declaring platform p, or 0.
func nodeFor(ng *nodeGroup, p string) int {
	want, err := platforms.Parse(p)
	if err != nil {
		return 0
	}
	m := platforms.OnlyStrict(want)
	for i, n := range ng.Nodes {
		for _, d := range n.Platforms {
			if m.Match(d) {
				return i
			}
		}
	}
	return 0
}

// connectNode connects to node i of ng: directly when its address allows,
// otherwise through `docker buildx dial-stdio` (selecting the node by its
// first declared platform when the builder has several nodes).
func connectNode(ctx context.Context, cli command.Cli, ng *nodeGroup, i int, several bool) (*client.Client, error) {
	n := ng.Nodes[i]
	if ng.dockerContext && ng.Name == cli.CurrentContext() || ng.Driver == "docker" && n.Endpoint == cli.CurrentContext() {
		return mobyClient(ctx, cli)
	}
	if addr, ok := plainAddress(ng.Driver, n); ok && os.Getenv(DialEnv) != "stdio" {
		c, err := client.New(ctx, addr)
		return c, errors.Wrapf(err, "connect to node %q of buildx builder %q at %s", n.Name, ng.Name, addr)
	}
	args := dialArgs(cli, ng.Name)
	if several && len(n.Platforms) > 0 {
		args = append(args, "--platform", platforms.Format(n.Platforms[0]))
	}
	c, err := client.New(ctx, "", client.WithContextDialer(func(context.Context, string) (net.Conn, error) {
		return commandconn.New(ctx, dockerCommand(), args...)
	}))
	return c, errors.Wrapf(err, "connect to buildx builder %q through docker %s", ng.Name, strings.Join(args, " "))
}

// DialEnv set to "stdio" connects to every buildx node through `docker
// buildx dial-stdio`, even one with a plain address: to rule out the direct
// connection when a builder misbehaves, and for the test of the path every
// other driver takes.
const DialEnv = "DEVCACHE_BUILDX_DIAL"

// plainAddress is the BuildKit address of a remote-driver node that
// BuildKit's client reaches by itself: tcp:// or unix:// without TLS
// files (those go through buildx, which knows where it keeps them).
func plainAddress(driver string, n storeNode) (string, bool) {
	if driver != "remote" {
		return "", false
	}
	for _, k := range []string{"cacert", "cert", "key", "servername"} {
		if n.DriverOpts[k] != "" {
			return "", false
		}
	}
	u, err := url.Parse(n.Endpoint)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "unix") {
		return "", false
	}
	return n.Endpoint, true
}

// dialArgs are the docker arguments of `docker buildx dial-stdio` for the
// builder, with this CLI's config directory and context.
func dialArgs(cli command.Cli, name string) []string {
	var args []string
	if cf := cli.ConfigFile(); cf != nil && cf.Filename != "" {
		args = append(args, "--config", filepath.Dir(cf.Filename))
	}
	args = append(args, "--context", cli.CurrentContext())
	return append(args, "buildx", "--builder", name, "dial-stdio")
}

// dockerCommand is the docker CLI that runs this plugin, or docker from
// PATH when run directly.
func dockerCommand() string {
	if p := os.Getenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND"); p != "" {
		return p
	}
	return "docker"
}

// mobyClient connects to the Docker engine's embedded BuildKit, as buildx's
// docker driver does: gRPC and sessions over hijacked engine API requests.
func mobyClient(ctx context.Context, cli command.Cli) (*client.Client, error) {
	api := cli.Client()
	c, err := client.New(ctx, "",
		client.WithContextDialer(func(context.Context, string) (net.Conn, error) {
			return api.DialHijack(ctx, "/grpc", "h2c", nil)
		}),
		client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return api.DialHijack(ctx, "/session", proto, meta)
		}))
	return c, errors.Wrap(err, "connect to the Docker engine's BuildKit")
}

// canExportCache tells whether the Docker engine's BuildKit can export the
// layer cache: only with the containerd image store, as buildx's docker
// driver decides (a worker labelled with its snapshotter).
func canExportCache(ctx context.Context, c *client.Client, ng *nodeGroup) error {
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		c.Close()
		return errors.Wrapf(err, "query buildx builder %q", ng.Name)
	}
	for _, w := range workers {
		if _, ok := w.Labels["org.mobyproject.buildkit.worker.snapshotter"]; ok {
			return nil
		}
	}
	c.Close()
	return ErrCannotExportCache(ng.Name, ng.Driver)
}

// ErrCannotExportCache is the error of a builder that cannot export the
// layer cache, with what to do instead.
func ErrCannotExportCache(name, driverName string) error {
	return fmt.Errorf(`buildx builder %q (driver %q) cannot export the layer cache, which docker devcache push needs.
Use a builder that can, for example:
  docker buildx create --name devcache --driver docker-container --use
or enable the containerd image store in Docker Engine, or pass --builder NAME or --buildkit-host ADDR`, name, driverName)
}
