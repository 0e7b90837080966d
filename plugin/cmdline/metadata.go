package cmdline

import (
	"encoding/json"
	"io"
	"os"

	"github.com/docker/cli/cli-plugins/metadata"

	"github.com/devcache/devcache/internal/version"
)

// Metadata is what both binaries answer the docker CLI's
// docker-cli-plugin-metadata call with.
var Metadata = metadata.Metadata{
	SchemaVersion:    "0.1.0",
	Vendor:           "devcache",
	Version:          version.Version,
	ShortDescription: "Build and cache dev container images with BuildKit",
	URL:              "https://github.com/devcache/devcache",
}

// AnswerMetadataCall answers the docker CLI's metadata call and ends the
// process when args (os.Args[1:]) are that call: both binaries do so
// before anything else (the docker CLI makes the call before every
// `docker devcache …`).
func AnswerMetadataCall(args []string) {
	if len(args) != 1 || args[0] != metadata.MetadataSubcommandName {
		return
	}
	if err := WriteMetadata(os.Stdout); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// WriteMetadata writes Metadata as the plugin framework's own metadata
// subcommand does.
func WriteMetadata(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "     ")
	return enc.Encode(Metadata)
}
