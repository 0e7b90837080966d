// Package resolver is the client-side resolution wiring of the plugin: the
// one path from a workspace to its Plans and key (Plans, used by plan,
// probe, push, build, lock and warm), workspace discovery (FindWorkspace),
// the resolver chain (New: source policy, warm layout, pinned-image cache,
// once per run, over devcontainer/resolve), the warm command's resolver
// (ForWarming), the concurrent prefetch of a config's references, and the
// early Dockerfile source-policy check (CheckDockerfileSources).
//
// It takes typed Options, never a command's flags. It imports
// devcontainer/..., internal/policy, plugin/registry and plugin/warm; never
// cobra, pflag, BuildKit's client or the plugin's commands.
package resolver
