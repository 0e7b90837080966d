package cmdline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/devcache/devcache/internal/atomicfile"
)

// This file holds the output helpers the commands share: JSON, the
// $GITHUB_OUTPUT step outputs, result files.

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// AppendGitHubOutput writes the step outputs probe and push share to the
// file named by $GITHUB_OUTPUT, when set: hit, cached-image (the entry,
// <repo>@sha256:…) and key-tag (from keyRef, <repo>:<tag>).
func AppendGitHubOutput(hit bool, image, keyRef string) error {
	path := os.Getenv("GITHUB_OUTPUT")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("$GITHUB_OUTPUT: %w", err)
	}
	tag := keyRef[strings.LastIndex(keyRef, ":")+1:]
	_, err = fmt.Fprintf(f, "hit=%t\ncached-image=%s\nkey-tag=%s\n", hit, image, tag)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("$GITHUB_OUTPUT: %w", err)
	}
	return nil
}

// WriteFileAtomic replaces path with data atomically (internal/atomicfile),
// so a failure never leaves a half-written file behind.
func WriteFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}

// WriteMetadataFile writes v as indented JSON to path (--metadata-file),
// when set.
func WriteMetadataFile(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("--metadata-file: %w", err)
	}
	return nil
}

// SavedTime formats a build duration as "~Xm Ys", or "<1s" for a
// sub-second build (which "~0m 0s" would misreport as none).
func SavedTime(d time.Duration) string {
	if d < time.Second {
		return "<1s"
	}
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("~%dm %ds", s/60, s%60)
}

// CheckFormat refuses a --format other than text and json.
func CheckFormat(format string) error {
	if format != "text" && format != "json" && format != "" {
		return fmt.Errorf("unknown --format %q (text or json)", format)
	}
	return nil
}
