package build

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"golang.org/x/sync/errgroup"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/registry"
)

// Node is a builder node and the platforms it builds (plugin/builder
// connects them).
type Node struct {
	Name      string
	Platforms []string
	Client    *client.Client
}

// NodeRequest makes the Request of one node's share of a build: its
// Plans (those of the node's platforms), its progress mode, and the
// export SolveNodes gives it.
type NodeRequest func(plans []*plan.Plan, export client.ExportEntry, progress string) (Request, error)

// SolveNodes builds plans on a builder of several nodes, each platform on
// its node (parts), in parallel: every node
// pushes an index of its platforms by digest to repo with export's
// attributes, and MergeIndexes writes the index one node would have pushed
// for all of them, with export's index annotations. It returns the merged
// index's digest and every node's failed layer cache exports.
func SolveNodes(ctx context.Context, reg *registry.Client, repo name.Repository, parts []Node, plans []*plan.Plan, export client.ExportEntry, progress string, request NodeRequest) (string, []string, error) {
	if progress == "auto" || progress == "tty" {
		progress = "plain" // several solves share the terminal
	}
	partExport := client.ExportEntry{Type: client.ExporterImage, Attrs: map[string]string{}}
	annotations := map[string]string{}
	for k, v := range export.Attrs {
		if a, ok := strings.CutPrefix(k, "annotation-index."); ok {
			annotations[a] = v
		} else if !strings.HasPrefix(k, "annotation.") {
			partExport.Attrs[k] = v
		}
	}
	maps.Copy(partExport.Attrs, map[string]string{"name": repo.Name(), "push": "true", "push-by-digest": "true"})
	digests := make([]string, len(parts))
	cacheErrs := make([][]string, len(parts))
	eg, ectx := errgroup.WithContext(ctx)
	for i, part := range parts {
		eg.Go(func() error {
			req, err := request(PlansFor(plans, part.Platforms), partExport, progress)
			if err != nil {
				return err
			}
			resp, err := Solve(ectx, part.Client, req)
			if err != nil {
				return fmt.Errorf("building %s on node %q: %w", strings.Join(part.Platforms, ","), part.Name, err)
			}
			digests[i], cacheErrs[i] = resp.ExporterResponse[exptypes.ExporterImageDigestKey], resp.CacheExportErrors
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return "", nil, err
	}
	dgst, err := MergeIndexes(ctx, reg, repo, digests, Platforms(plans), annotations)
	return dgst, slices.Concat(cacheErrs...), err
}
