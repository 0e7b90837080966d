// Package e2e holds devcache's end-to-end tests: the frontend image built by
// docker buildx bake and used by `docker buildx build` through the syntax
// directive, and the plugin binary run as `docker devcache` from a temporary
// DOCKER_CONFIG, all against the real local stack (buildkitd with runc and a
// registry on loopback; see internal/stack).
package e2e
