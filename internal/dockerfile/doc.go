// Package dockerfile reads a Dockerfile the way BuildKit's Dockerfile
// frontend (dockerfile2llb) reads it, without building it: which
// build-context paths the build reads, which external images it names, its
// stages and its "# syntax=" directive. It is devcache's one home for that
// reading: the Plan's context digest and image pins (devcontainer/plan) and
// the plugin's source policy all call Read (through plan.ReadDockerfile,
// which maps a devcontainer.json build onto Options).
//
// It parses with BuildKit's own packages — frontend/dockerfile/parser
// (heredocs, escape directive, continuation lines), .../instructions (typed
// commands, RUN --mount) and .../shell (ARG and ENV expansion) — and mirrors
// dockerfile2llb's rules for global ARGs, build args, stage lookup,
// --target reachability and ONBUILD triggers of a parent stage.
//
// It may import only those three BuildKit packages and the standard library:
// no LLB, no client, no network or file I/O. That keeps it importable from
// devcontainer/plan, which must not import the rest of BuildKit.
//
// devcontainer/dockerfile.go is not this package's concern: it ports the
// reference CLI's regular expressions on purpose, for the metadata label.
package dockerfile
