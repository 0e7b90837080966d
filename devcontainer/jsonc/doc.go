// Package jsonc parses JSON with comments (JSONC, as devcontainer.json and
// devcontainer-feature.json are written) into an order-preserving value model,
// and serialises values back exactly as JavaScript's JSON.stringify would.
//
// The reference devcontainer CLI works on JavaScript objects, so key order,
// number formatting and string escaping in the labels and files it writes
// follow JavaScript rules. This package reproduces those rules; Go's
// encoding/json does not (it sorts map keys and escapes <, >, & and U+2028).
//
// It imports nothing from BuildKit and does no I/O.
package jsonc
