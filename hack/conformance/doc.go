// Package conformance holds the differential tests of devcache's dev
// container model against the reference devcontainer CLI
// (@devcontainers/cli, pinned in RefCLIVersion).
//
// The reference runs `devcontainer build` without a Docker engine: a fake
// docker (fake-docker.js) answers its probes and image inspections and
// captures the generated Dockerfile and feature build context instead of
// building. The tests compare install order, option env files, wrapper
// scripts, built-in env, the metadata label bytes and the lockfile with the
// Plan devcache computes for the same workspace.
//
// With CI=true a missing node/npm or a failed install of the reference is a
// test failure, not a skip.
package conformance
