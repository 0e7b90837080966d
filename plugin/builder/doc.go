// Package builder connects to a BuildKit builder: an address (--buildkit-host,
// BUILDKIT_HOST, with BuildKit's connection helpers) or a buildx builder of
// the docker CLI (Connect), and tells whether it can export the layer cache.
//
// It imports buildx's builder and drivers (aliased bx for the builder) and
// the BuildKit client; never the plugin's commands or its other packages.
// It imports no cobra or pflag itself, but buildx's builder package depends
// on the docker CLI's command package, which does: this is the one package
// below the commands whose dependencies include cobra (see
// internal/repotest's layout test).
package builder
