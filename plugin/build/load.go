package build

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	mobyclient "github.com/moby/moby/client"
	"github.com/pkg/errors"
)

// DockerLoad is the --load output: the image tarball (docker exporter)
// streamed into the Docker engine of the current docker context, as
// `docker load` does, whatever the builder. Wait returns the engine's
// verdict once the build has written the tarball; Abort ends the load when
// the build failed before.
type DockerLoad struct {
	pw   *io.PipeWriter
	done chan error
}

// StartDockerLoad starts loading into the engine of api.
func StartDockerLoad(ctx context.Context, api mobyclient.APIClient) *DockerLoad {
	pr, pw := io.Pipe()
	l := &DockerLoad{pw: pw, done: make(chan error, 1)}
	go func() {
		err := loadInto(ctx, api, pr)
		pr.CloseWithError(err)
		l.done <- err
	}()
	return l
}

func loadInto(ctx context.Context, api mobyclient.APIClient, r io.Reader) error {
	resp, err := api.ImageLoad(ctx, r, mobyclient.ImageLoadWithQuiet(true))
	if err != nil {
		return errors.Wrap(err, "--load: loading the image into the Docker engine")
	}
	defer resp.Close()
	dec := json.NewDecoder(resp)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return errors.Wrap(err, "--load: reading the Docker engine's answer")
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			return errors.Errorf("--load: the Docker engine refused the image: %s", msg.ErrorDetail.Message)
		}
		if msg.Error != "" {
			return errors.Errorf("--load: the Docker engine refused the image: %s", msg.Error)
		}
	}
}

// Output is the exporter's Output function.
func (l *DockerLoad) Output(map[string]string) (io.WriteCloser, error) { return l.pw, nil }

// Wait waits for the engine after a successful build.
func (l *DockerLoad) Wait() error { return <-l.done }

// Abort ends the load after a failed build. It returns the load's own
// error when the load failed by itself (the engine unreachable, or
// refusing the image): the build then failed only because its tarball had
// nowhere to go, and the load's error is the one to report. nil when the
// load ended because of cause.
func (l *DockerLoad) Abort(cause error) error {
	l.pw.CloseWithError(cause)
	err := <-l.done
	if err == nil || errors.Is(err, cause) || strings.Contains(err.Error(), cause.Error()) {
		return nil
	}
	return err
}
