// Package compose owns what of a Compose config (`dockerComposeFile` +
// `service`) reaches the dev container image: which Compose files and .env
// a config uses (Files, as the reference CLI finds them), and the named
// service's `build` (as a devcontainer.Build, the shape Dockerfile configs
// have) or `image`, and its `user` (Service, from Load). Nothing else of
// the project (other services, ports, volumes, networks) is returned, so
// nothing else can reach the Plan or its key.
//
// Load runs the registered Loader: devcontainer/compose/composego, which
// loads the project the way Docker Compose does, through compose-go, and
// registers itself when linked. Binaries that plan Compose configs import
// it; without it Load fails with ErrNoLoader (the docker-devcache plugin
// binary then hands the command to the devcache binary).
package compose
