// Package release holds the tests of devcache's release: hack/release's dry
// run (`docker buildx bake release` on a real stack: every artifact,
// SHA256SUMS, attestations, the plugin's stamped version, the frontend
// image's tags and platforms) and the GitHub Action's install script
// (.github/actions/devcache/install.sh) against a release served on
// loopback. It has no code of its own: the release lives in docker-bake.hcl,
// the Dockerfile, hack/release and .github/workflows/release.yml.
package release
