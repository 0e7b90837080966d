package cmdline

import (
	"encoding/json"
	"io"

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

// IsMetadataCall tells whether args (os.Args[1:]) are the docker CLI's
// metadata call, which the binaries answer before anything else (the
// docker CLI makes it before every `docker devcache …`).
func IsMetadataCall(args []string) bool {
	return len(args) == 1 && args[0] == metadata.MetadataSubcommandName
}

// WriteMetadata writes Metadata as the plugin framework's own metadata
// subcommand does.
func WriteMetadata(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "     ")
	return enc.Encode(Metadata)
}
