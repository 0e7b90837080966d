// Package repotest checks the repository's own files that are not Go code:
// the GitHub workflow and action definitions (with actionlint, pinned as a Go
// tool in go.mod), the README's contract, and the layout of plugin/ (the
// commands alone in plugin/, no cobra or pflag below them) and the plugin
// binary's link graph (no buildx, no heavy dependencies it brought).
package repotest
