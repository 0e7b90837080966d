package frontend

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/moby/buildkit/frontend/gateway/client"
)

// fileRef is a gateway result holding one file, served as buildkitd
// serves ReadFile ranges.
type fileRef struct {
	client.Reference
	data  []byte
	reads int
}

func (r *fileRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	r.reads++
	off := min(req.Range.Offset, len(r.data))
	return r.data[off:min(off+req.Range.Length, len(r.data))], nil
}

// TestRefReaderChunks checks that a download larger than one gateway
// message is read whole, in chunks.
func TestRefReaderChunks(t *testing.T) {
	for _, size := range []int{0, 10, readChunk, 2*readChunk + 7} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		ref := &fileRef{data: data}
		got, err := io.ReadAll(&refReader{ctx: context.Background(), ref: ref, name: payloadFile})
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("size %d: read %d bytes, %v", size, len(got), err)
		}
		if want := size/readChunk + 1; ref.reads != want {
			t.Errorf("size %d: %d ReadFile calls, want %d", size, ref.reads, want)
		}
	}
}
