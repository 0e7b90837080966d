// Package builder connects to a BuildKit builder: an address (--buildkit-host,
// BUILDKIT_HOST, with BuildKit's connection helpers) or a buildx builder of
// the docker CLI (Connect, ConnectPlatforms), routing each platform to the
// node that declares it, and tells whether it can export the layer cache.
//
// It reads buildx's builder store itself and links none of buildx: nodes
// with a plain address (the Docker engine of the current context, a remote
// driver's tcp:// or unix://) are dialled directly, any other driver
// (docker-container, kubernetes, cloud, …) through `docker buildx
// dial-stdio`, so that no driver is linked into the plugin (see
// internal/repotest's link-graph test). It imports the BuildKit client and
// the docker CLI's command package (which depends on cobra); never the
// plugin's commands or its other packages.
package builder
