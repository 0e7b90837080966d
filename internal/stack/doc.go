// Package stack owns the real local build stack that devcache is developed
// and tested against: a BuildKit daemon (rootful, OCI worker, Debian's runc),
// a CNCF distribution registry on loopback (Debian's docker-registry), the
// seed base images in that registry (busybox, and optionally Debian bookworm),
// and an isolated DOCKER_CONFIG holding the buildx plugin and a remote builder
// pointed at the daemon.
//
// The daemons run detached from the process that starts them, with their pid
// files, configuration, logs and state in one directory, so a stack outlives
// the command that brought it up (hack/stack up) and later commands can find
// it again (Load, Attach). Up is idempotent: on a healthy stack it only checks
// and returns.
//
// The pinned tools (buildkitd, buildctl, docker-buildx) are built from the
// module's own tool directives, once per machine and go.sum, into a shared
// cache directory (see CacheDir).
//
// Package stacktest wraps this for test binaries.
package stack
