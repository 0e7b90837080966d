// Package frontend is devcache's BuildKit frontend: the gateway BuildFunc that
// turns a devcontainer.json (read from the build's "dockerfile" local) into
// the dev container image. The frontend image runs it through
// grpcclient.RunFromEnvironment; the docker plugin runs the same function
// in-process through client.Build.
//
// It owns the gateway side only: option parsing (through dockerui), reading
// the entry file, resolving the base through the gateway with the session's
// credentials, solving, and per-platform results. Parsing the config belongs
// to package devcontainer and building LLB to package llb.
package frontend
