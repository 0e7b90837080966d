// Package resolve is the client-side resolver: it pins feature references
// (OCI registries through go-containerregistry with the keychain its caller
// passes, https tarballs, local folders) and base images, extracts
// payloads safely (package payload), and caches verified content by digest
// on disk so a second resolution of pinned content needs no network.
//
// It implements features.Resolver. The frontend provides its own
// implementation over the BuildKit gateway; nothing here imports BuildKit.
package resolve
