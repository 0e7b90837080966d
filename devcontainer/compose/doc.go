// Package compose reads the Docker Compose files of a Compose config
// (`dockerComposeFile` + `service`) the way Docker Compose does, through
// github.com/compose-spec/compose-go/v2: the files merged in order, the
// project directory's .env, variable interpolation with the client's
// environment, `extends`, every profile active. It owns turning the named
// service into what reaches the dev container image: its `build` (as a
// devcontainer.Build, the shape Dockerfile configs have) or its `image`, and
// its `user`. Nothing else of the project (other services, ports, volumes,
// networks) is returned, so nothing else can reach the Plan or its key.
package compose
