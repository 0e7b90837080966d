package build

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/devcache/devcache/internal/stack/stacktest"
)

// exportVariants are the image exporter settings compared by
// BenchmarkExport: what devcache's keyed push used before, what it uses
// now, zstd, and the reference's (no rewrite: not reproducible).
var exportVariants = []struct {
	name  string
	attrs map[string]string
}{
	{"gzip6-rewrite", map[string]string{"rewrite-timestamp": "true", "source-date-epoch": "0"}},
	{"gzip1-rewrite", map[string]string{"rewrite-timestamp": "true", "source-date-epoch": "0", "compression": "gzip", "compression-level": "1"}},
	{"zstd3-rewrite", map[string]string{"rewrite-timestamp": "true", "source-date-epoch": "0", "compression": "zstd", "compression-level": "3"}},
	{"gzip6-norewrite", map[string]string{}},
}

// BenchmarkExport isolates the image export of one new layer (a copy of
// the Debian base's /usr, about what the two features add) from the
// feature installs, whose time is the same for every variant: per variant
// an empty builder runs the copy and pushes the image; the figures are
// the exporter's own progress items.
func BenchmarkExport(b *testing.B) {
	s := stacktest.Get(b)
	debian := stacktest.Debian(b)
	bn := &bench{s: s}
	for _, v := range exportVariants {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				bn.prune(b)
				img := s.Ref(fmt.Sprintf("bench/export-%s-%d", v.name, time.Now().UnixNano()))
				took, st := exportOnce(b, s.BuildkitAddr, debian, img, v.attrs)
				im := imageOf(b, img)
				f := figures{
					"export-s":        secs(sum(st, "exporting to image")),
					"export-layers-s": secs(sum(st, "exporting layers")),
					"rewrite-s":       secs(sum(st, "rewriting layers")),
					"solve-s":         secs(took),
					"bytes":           float64(im.bytes),
				}
				f.report(b)
				b.Logf("%s: %v", v.name, f)
			}
		})
	}
}

// exportOnce solves the copy and pushes img with the exporter attrs.
func exportOnce(b *testing.B, addr, base, img string, attrs map[string]string) (time.Duration, map[string]*step) {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	st := llb.Image(base).Run(llb.Args([]string{"/bin/sh", "-c", "cp -a /usr /usr-copy && echo " + img + " > /stamp"})).Root()
	def, err := st.Marshal(ctx)
	if err != nil {
		b.Fatal(err)
	}
	exp := map[string]string{"name": img, "push": "true", "oci-mediatypes": "true"}
	for k, v := range attrs {
		exp[k] = v
	}
	ch := make(chan *client.SolveStatus)
	var log bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		enc := json.NewEncoder(&log)
		for s := range ch {
			enc.Encode(s)
		}
	}()
	t0 := time.Now()
	_, err = c.Solve(ctx, def, client.SolveOpt{Exports: []client.ExportEntry{{Type: client.ExporterImage, Attrs: exp}}}, ch)
	took := time.Since(t0)
	<-done
	if err != nil {
		b.Fatalf("solve: %v", err)
	}
	return took, steps(strings.TrimSpace(log.String()))
}
