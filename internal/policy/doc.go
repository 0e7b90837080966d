// Package policy is devcache's source policy: which base images, Dockerfile
// FROMs and features a build may use ("only pre-approved images and
// artifacts"). It only matches strings: it does no I/O and imports neither
// BuildKit nor the devcontainer packages, so the plugin and the frontend
// apply the same rules.
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
//	https://features.example.com/**  tarball feature URLs
//
// Image and OCI feature references are matched on their repository
// (registry/path, without tag or digest), normalised as Docker does:
// "alpine" is docker.io/library/alpine and index.docker.io is docker.io. A
// pattern that names no registry is normalised the same way. Tarball
// features are matched on their URL. Local features (./x inside
// .devcontainer) live in the reviewed repository and are always allowed.
package policy
