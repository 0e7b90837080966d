// Package llb compiles what devcache builds into BuildKit LLB and an OCI
// image config. It is pure and deterministic: the same input gives the same
// LLB bytes and the same config. It does no I/O and never talks to a daemon
// or a registry; resolution happens before it (the devcontainer packages on
// the client, or the frontend through the BuildKit gateway).
package llb
