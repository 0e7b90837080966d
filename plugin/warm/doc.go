// Package warm owns the OCI layout directory that `docker devcache warm`
// fills and `--base-image-cache-dir` reads (docs/cache-commands.md): its
// annotations, concurrent-safe writes (index.go: content-addressed blobs,
// index.json updated under a lock), lookups by what a reference pointed to
// (Layout.Find) or as the config wrote it (Layout.FindAs), and warming one
// target (One) through a registry.Client.
//
// It imports go-containerregistry, plugin/registry and the devcontainer
// model; never cobra, pflag, BuildKit, the plugin's commands or its
// resolver, build or cache packages (those import it).
package warm
