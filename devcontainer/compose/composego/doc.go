// Package composego loads Compose projects with
// github.com/compose-spec/compose-go/v2 and registers itself as
// compose.Load's loader when linked: the files merged in order, the
// project directory's .env, interpolation with the client's environment,
// `extends` (files read through Options.ReadFile), every profile active;
// the named service's `build` mapped onto a devcontainer.Build, refusing
// what the build cannot honour. It is its own package because compose-go
// costs every process that links it ~15 ms at start (its JSON Schema
// validator compiles every draft's meta-schema at init): the
// docker-devcache plugin binary, which answers probes, leaves it out.
package composego
