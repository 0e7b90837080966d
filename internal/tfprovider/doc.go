// Package tfprovider is the Terraform provider devcache/devcache
// (cmd/terraform-provider-devcache), built on terraform-plugin-framework:
// its data source devcache_cached_image answers "is this repository's dev
// container image cached?" with the probe of `docker devcache probe`
// (plugin/probe.Probe), after cloning the repository with go-git into a
// temporary directory (gitclone.go) and turning the Terraform attributes
// into probe options (the registry access of plugin/registry, the
// credentials of a docker config directory through
// registry.LoadCredentials).
//
// Only cmd/terraform-provider-devcache imports it: Terraform's and go-git's
// modules stay out of the docker-devcache binary.
package tfprovider
