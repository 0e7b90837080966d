// Package plan computes the Plan of DESIGN.md: the fully resolved, canonical
// description of the dev container image a config builds — base image
// (pinned) or Dockerfile build, features in install order with pinned
// sources, their option env files and wrapper scripts, the users, the
// container env and the exact devcontainer.metadata label — and its Key.
//
// Resolution goes through the Resolver interface (devcontainer/resolve on
// the client, the BuildKit gateway in the frontend). It must not import
// BuildKit: it reads Dockerfiles (ReadDockerfile) through internal/dockerfile,
// which imports BuildKit's Dockerfile parser packages
// (frontend/dockerfile/parser, instructions, shell) and nothing else of it.
package plan
