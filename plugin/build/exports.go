package build

import (
	"errors"

	"github.com/moby/buildkit/client"
)

// RouteExports adapts exports to the builder: with the Docker engine's own
// BuildKit (moby), image and docker exports store into the engine (and push
// from there), as buildx does; otherwise a docker export without a
// destination streams into the engine through the load startLoad begins
// (at most one). The load, if any, is returned.
func RouteExports(exports []client.ExportEntry, moby bool, startLoad func() (*DockerLoad, error)) (*DockerLoad, error) {
	var load *DockerLoad
	for i := range exports {
		e := &exports[i]
		if moby && (e.Type == client.ExporterImage || (e.Type == client.ExporterDocker && e.Output == nil)) {
			e.Type = "moby"
			continue
		}
		if e.Type != client.ExporterDocker || e.Output != nil || e.OutputDir != "" {
			continue
		}
		if load != nil {
			return nil, errors.New("only one --output type=docker can load into the Docker engine")
		}
		var err error
		if load, err = startLoad(); err != nil {
			return nil, err
		}
		e.Output = load.Output
	}
	return load, nil
}
