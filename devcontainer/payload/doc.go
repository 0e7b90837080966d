// Package payload holds the files of a feature: safe extraction of feature
// archives (OCI layers and tarballs, plain tar or gzip) into an in-memory
// tree with size limits, reading local feature folders, and the content
// digest that pins a payload.
//
// Extraction never writes outside a tree: entries with absolute paths or
// ".." are rejected, links must stay inside the feature folder, and device
// nodes are refused. It does no network I/O and must not import BuildKit.
package payload
