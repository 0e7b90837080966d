// Package conformance is the differential conformance suite of devcache's
// image builds against the reference `devcontainer build`
// (@devcontainers/cli, pinned in hack/conformance.RefCLIVersion).
//
// For every fixture under testdata/conformance, the tests build the
// workspace three times, pushing the images to the local stack's registry:
//
//   - with the reference CLI, which needs a Docker engine (Debian's
//     docker.io, started privately for the test binary with its own data
//     root and socket), buildx with the stack's remote BuildKit builder as
//     the current builder, and BuildKit's Dockerfile frontend in the local
//     registry as docker/dockerfile:1.4 (built once per machine from the
//     pinned BuildKit module);
//   - with `docker devcache build --push` (the plugin from this module);
//   - with `docker buildx build --push` on a copy of the config with a
//     `// syntax=` line naming devcache's frontend image, built by `docker
//     buildx bake` (package frontendimage), with the fixture's build args
//     and DEVCACHE_WORKSPACE_FOLDER.
//
// Then they compare devcache's two images with the reference's from the
// registry: config Env, User, WorkingDir, Entrypoint, Cmd and Labels
// (devcontainer.metadata byte for byte), and the contents of the files the fixture names (what features
// wrote, and /tmp/dev-container-features/devcontainer-features.builtin.env).
// Intended deviations from the reference are declared per fixture and
// asserted as corrected; README.md lists them.
//
// Under CI=true a missing stack, Docker engine or reference CLI fails the
// tests instead of skipping them.
//
// The reference's set-up (engine, docker/dockerfile:1.4, builder
// selection) is importable as StartReference: bench/build times the
// reference on it.
package conformance
