// Package registry is the plugin's access to OCI registries, below the
// commands (like crane's pkg/crane or buildx's util/imagetools). It owns the
// Client (built with functional options: keychain, base transport, CA files,
// mirrors, plain-HTTP hosts), the base HTTP transport, mirror rewriting
// (ParseMirrors), the single-request manifest HEAD (Client.Head) and
// IsNotFound, the one error that means a miss. It owns the registry
// credentials: one source, the docker CLI's
// config file with its credential helpers (the file `docker --config DIR`
// or DOCKER_CONFIG selects, as buildx uses it), plus the variables the
// reference devcontainer CLI reads, for every registry request the plugin
// makes and for the BuildKit session (Credentials); and the rule that
// credentials travel over plain HTTP only to a registry that asked for
// them (ChallengeGuard).
//
// It imports go-containerregistry and the docker CLI's config types; never
// cobra, pflag, BuildKit, the plugin's commands or its other packages, and it
// never finds a docker config by itself: the caller hands it the config file.
// Errors name the failing value (a mirror, a CA file), not a flag: the
// command adds the flag name.
package registry
