// Package repotest checks the repository's own files that are not Go code:
// the GitHub workflow and action definitions (with actionlint, pinned as a Go
// tool in go.mod) and the README's contract.
package repotest
