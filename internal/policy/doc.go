// Package policy is devcache's source policy: which base images, Dockerfile
// FROMs and features a build may use ("only pre-approved images and
// artifacts"). It compiles the --allow patterns into a BuildKit source
// policy (SourcePolicy), which the plugin and the frontend send with every
// build so that buildkitd enforces it on every source of every solve,
// nested Dockerfile sub-solves included; the early checks (CheckImage,
// CheckFeature) evaluate that same compiled policy with BuildKit's policy
// engine, and Explain turns buildkitd's refusal into a message naming the
// rule. It does no I/O and imports no devcontainer package; of BuildKit
// only the source policy types and engine.
//
// A policy is a list of rules, each a pattern, optionally negated with a
// leading "!". A reference is allowed when the last rule that matches it is
// not negated; a reference that no rule matches is refused. An empty policy
// allows everything. Patterns:
//
//	docker.io/library/*              one path segment: docker.io/library/alpine
//	ghcr.io/devcontainers/features/** any depth below the prefix
//	registry.example.com/**          everything on one registry
//	!docker.io/library/ubuntu        refuse one repository
//	https://features.example.com/**  tarball feature URLs, Dockerfile ADD URLs
//
// Image and OCI feature references are matched on their repository
// (registry/path, without tag or digest), normalised as Docker does:
// "alpine" is docker.io/library/alpine and index.docker.io is docker.io. A
// pattern that names no registry is normalised the same way; a pattern
// names repositories, never tags or digests. This covers every image and
// registry blob a build fetches: base images, every Dockerfile FROM (of
// any stage, with ARGs and build args expanded as BuildKit expands them),
// COPY --from and RUN --mount=from images, a Dockerfile's "# syntax="
// frontend image, and OCI feature blobs. http(s) sources (tarball features,
// Dockerfile ADD <url>) are matched on their URL. Local features (./x
// inside .devcontainer), the build context, git sources and images from a
// client's own OCI layout (--base-image-cache-dir) are not governed.
package policy
