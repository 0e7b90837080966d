package llb

import (
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// HistoryComment marks the image history entries devcache adds.
const HistoryComment = "devcache"

// WithLabels returns a copy of base's config with labels set, and a history
// entry (no layer) recording the change, as a Dockerfile LABEL would. created
// is the history time; nil leaves it unset (the exporter fills it in).
func WithLabels(base *dockerspec.DockerOCIImage, labels map[string]string, createdBy string, created *time.Time) *dockerspec.DockerOCIImage {
	img := cloneImage(base)
	if img.Config.Labels == nil {
		img.Config.Labels = map[string]string{}
	}
	for k, v := range labels {
		img.Config.Labels[k] = v
	}
	img.History = append(img.History, ocispecs.History{
		Created:    created,
		CreatedBy:  createdBy,
		Comment:    HistoryComment,
		EmptyLayer: true,
	})
	img.Created = created
	return img
}

func cloneImage(in *dockerspec.DockerOCIImage) *dockerspec.DockerOCIImage {
	out := *in
	out.Config.Env = append([]string(nil), in.Config.Env...)
	out.Config.Entrypoint = append([]string(nil), in.Config.Entrypoint...)
	out.Config.Cmd = append([]string(nil), in.Config.Cmd...)
	out.Config.OnBuild = append([]string(nil), in.Config.OnBuild...)
	out.Config.Shell = append([]string(nil), in.Config.Shell...)
	if in.Config.Labels != nil {
		out.Config.Labels = make(map[string]string, len(in.Config.Labels))
		for k, v := range in.Config.Labels {
			out.Config.Labels[k] = v
		}
	}
	if in.Config.ExposedPorts != nil {
		out.Config.ExposedPorts = make(map[string]struct{}, len(in.Config.ExposedPorts))
		for k := range in.Config.ExposedPorts {
			out.Config.ExposedPorts[k] = struct{}{}
		}
	}
	if in.Config.Volumes != nil {
		out.Config.Volumes = make(map[string]struct{}, len(in.Config.Volumes))
		for k := range in.Config.Volumes {
			out.Config.Volumes[k] = struct{}{}
		}
	}
	out.History = append([]ocispecs.History(nil), in.History...)
	out.RootFS.DiffIDs = append(out.RootFS.DiffIDs[:0:0], in.RootFS.DiffIDs...)
	return &out
}
