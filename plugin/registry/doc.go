// Package registry is the plugin's access to OCI registries, below the
// commands. It owns the registry credentials: one source, the docker CLI's
// config file with its credential helpers (the file `docker --config DIR`
// or DOCKER_CONFIG selects, as buildx uses it), plus the variables the
// reference devcontainer CLI reads, for every registry request the plugin
// makes and for the BuildKit session (Credentials); and the rule that
// credentials travel over plain HTTP only to a registry that asked for
// them (ChallengeGuard).
//
// It imports go-containerregistry and the docker CLI's config types; never
// cobra, pflag, BuildKit or the plugin's commands, and it never finds a
// docker config by itself: the caller hands it the config file.
package registry
