// Package devcontainer reads devcontainer.json the way the reference
// devcontainer CLI does: discovery, lenient JSONC, legacy-key migration,
// variable substitution, the typed model of what reaches the image, and the
// devcontainer.metadata label.
//
// It must not import BuildKit: it is pure and is used by the frontend (inside
// BuildKit) and by the docker plugin alike. Feature handling lives in the
// features sub-package.
package devcontainer
