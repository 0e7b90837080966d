package frontend

import (
	"context"
	"io"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/pkg/errors"
)

// readChunk is how much of a downloaded file one gateway ReadFile returns:
// well under the gateway's message size limit (16 MiB).
const readChunk = 4 << 20

// downloadTarball is the resolve.Options.Download of the frontend: the
// daemon fetches the tarball feature (llb.HTTP, as the build would), so
// buildkitd's CA trust, proxies and network apply and the source policy
// goes with the solve (policyClient); the frontend then reads the file
// from the result. Package resolve checks the size and digest and
// extracts it, as for the plugin.
func (g *gatewayResolver) downloadTarball(ctx context.Context, url string) (io.ReadCloser, error) {
	st := llb.HTTP(url, llb.Filename(payloadFile), llb.WithCustomName("[devcontainer] fetch "+url))
	def, err := st.Marshal(ctx, llb.WithCaps(g.bc.BuildOpts().LLBCaps))
	if err != nil {
		return nil, err
	}
	res, err := g.bc.GatewayClient().Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, errors.Wrap(err, "through the builder (BuildKit)")
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	return io.NopCloser(&refReader{ctx: ctx, ref: ref, name: payloadFile}), nil
}

// refReader reads a file of a gateway result in chunks.
type refReader struct {
	ctx  context.Context
	ref  client.Reference
	name string
	off  int64
	buf  []byte
	eof  bool
}

func (r *refReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		data, err := r.ref.ReadFile(r.ctx, client.ReadRequest{
			Filename: r.name,
			Range:    &client.FileRange{Offset: int(r.off), Length: readChunk},
		})
		if err != nil {
			return 0, err
		}
		r.off += int64(len(data))
		r.buf, r.eof = data, len(data) < readChunk
		if len(data) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
