// Package features implements Dev Container Features as the reference
// devcontainer CLI does for `devcontainer build`: references (OCI, https
// tarball, local), devcontainer-feature.json, options → environment, the
// built-in variables, the install wrapper script, the metadata label entry of
// each feature, and the install order (dependsOn, installsAfter,
// overrideFeatureInstallOrder, the round-based sort with the reference
// comparator and locale collation).
//
// It does no network I/O: sources are resolved through the Resolver
// interface (devcontainer/resolve implements it for the client; the frontend
// can implement it over the BuildKit gateway). It must not import BuildKit.
package features
