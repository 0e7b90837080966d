// Package devcontainer reads devcontainer.json the way the reference
// devcontainer CLI does for `devcontainer build`: discovery
// (.devcontainer/devcontainer.json, then .devcontainer.json, or an explicit
// path), lenient JSONC (comments, trailing commas, last duplicate key wins),
// legacy-key migration, build-time variable substitution (keeping both the
// raw and the substituted form), the typed model of what reaches the image
// (image, Dockerfile build with the reference's context default and the
// build.options a frontend can honour, features, containerEnv, users), the
// reference's static Dockerfile analysis for the base image and user, and
// the devcontainer.metadata label.
//
// Errors name the file, line and field: `devcontainer.json:12:
// features["./x"]: local feature must be inside .devcontainer/`.
//
// It does no network I/O and must not import BuildKit: it is used by the
// frontend (inside BuildKit) and by the docker plugin alike. Features live
// in the features sub-package, resolution in resolve, the Plan in plan.
package devcontainer
