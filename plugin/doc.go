// Package plugin is the whole `docker devcache` command tree: the cobra
// commands only (like buildx's commands/). The root, its flags and their
// DEVCACHE_* variables, the flag groups several commands share, the
// output helpers, probe and version live in plugin/cmdline, which the
// docker-devcache plugin binary links alone; this package adds the
// commands that build (build, push, warm, lock, prune, plan) and the
// docker CLI they reach builders with. Each command's file reads as a list
// of steps calling the packages below:
//
//   - plugin/resolver: workspace → Plans and key (the one path), the
//     resolver chain, the source policy on Dockerfiles
//   - plugin/cache: key tags, entries, build info, lookup/claim, prune, explain
//   - plugin/build: the in-process solve, pin policy, layer cache, exports
//   - plugin/builder: the BuildKit or buildx builder connection
//   - plugin/warm: the warm OCI layout
//   - plugin/registry: registry access and credentials
//
// Dependencies point one way: commands → cache, build, builder, warm,
// resolver → registry → go-containerregistry. Only this package and
// plugin/cmdline import cobra or pflag; the commands add flag names and
// advice to the errors of the packages below, which name the failing
// value. The plugin runs the frontend in-process through the BuildKit
// client, so no frontend image is needed.
//
// The devcache binary (cmd/devcache) runs NewRootCommand through the
// docker/cli plugin framework; the docker-devcache binary hands it every
// command but probe and version.
package plugin
