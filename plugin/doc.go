// Package plugin is the docker CLI plugin `docker devcache`: the cobra
// commands only (like buildx's commands/). It registers the flags, binds
// every flag to its DEVCACHE_* variable (root.go), turns the flags into the
// typed options of the packages below (flags.go), and writes the output
// (JSON, text, $GITHUB_OUTPUT, result files; output.go). Each command's
// file reads as a list of steps calling those packages:
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
// resolver → registry → go-containerregistry. Only this package imports
// cobra or pflag; the commands add flag names and advice to the errors of the
// packages below, which name the failing value. The plugin runs the frontend
// in-process through the BuildKit client, so no frontend image is needed.
//
// Command mains only call NewRootCommand through the docker/cli plugin
// framework.
package plugin
