package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport wraps inner with the policy: each request is abandoned after
// RequestTimeout without progress, and a transient failure of a request
// that can be sent again (no body, or one http.Request.GetBody recreates)
// is retried until the request's context ends or MaxElapsed passes, a
// stalled one Stalls times at most. When
// the next wait would pass that deadline it gives up: with the last
// answer when there was one (so the caller reads the registry's message),
// else with a *GaveUpError.
func (p Policy) Transport(inner http.RoundTripper) http.RoundTripper {
	return &retryTransport{p: p.withDefaults(), inner: inner}
}

type retryTransport struct {
	p     Policy
	inner http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(t.p.MaxElapsed)
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	stalls := 0
	for attempt := 1; ; attempt++ {
		r, err := again(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.once(r)
		if err == nil && isManifest(r, resp) {
			resp, err = readWhole(r, resp)
		}
		wait, transient := t.judge(r, resp, err, attempt)
		if !transient || !replayable || ctx.Err() != nil {
			return resp, err
		}
		resp = buffered(resp)
		var stall *StallError
		if errors.As(err, &stall) {
			stalls++
		}
		wait, ok := fit(wait, time.Until(deadline), resp)
		if !ok || stalls >= t.p.Stalls {
			return giveUp(resp, err, attempt, start)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if resp != nil {
				return resp, nil
			}
			return nil, fmt.Errorf("%w (after %d attempts; last: %v)", context.Cause(ctx), attempt, err)
		case <-timer.C:
		}
	}
}

// fit fits a wait into the time left before the deadline: a backoff that
// would pass it is shortened to half the time left, so that the attempts go
// on until about the deadline; a Retry-After that would pass it, or less
// than a second left, ends the retries.
func fit(wait, left time.Duration, resp *http.Response) (time.Duration, bool) {
	switch {
	case wait < left:
		return wait, true
	case left < time.Second:
		return 0, false
	case resp != nil && resp.Header.Get("Retry-After") != "":
		return 0, false
	}
	return left / 2, true
}

// again is req for the attempt-th time: with a fresh body from GetBody.
func again(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 1 || req.GetBody == nil {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

func giveUp(resp *http.Response, err error, attempts int, start time.Time) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	return nil, &GaveUpError{Attempts: attempts, Elapsed: time.Since(start), Err: err}
}

// judge says whether the outcome of attempt is transient (a 500 on a
// read: for the first Policy.ServerErrors retries) and how long to
// wait before the next: the backoff, or the answer's Retry-After.
func (t *retryTransport) judge(req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	wait := t.p.Backoff(attempt)
	if err != nil {
		return wait, Transient(err)
	}
	if resp.StatusCode == http.StatusInternalServerError && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		return wait, attempt <= t.p.ServerErrors
	}
	if !TransientStatus(resp.StatusCode) {
		return 0, false
	}
	if after, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
		wait = after
	}
	return wait, true
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// maxManifest is the largest manifest read whole inside an attempt.
const maxManifest = 4 << 20

// isManifest tells whether resp is a manifest answer small enough to read
// within the attempt, so that a truncated one is retried.
func isManifest(req *http.Request, resp *http.Response) bool {
	return req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/manifests/") &&
		resp.StatusCode == http.StatusOK && resp.ContentLength >= 0 && resp.ContentLength <= maxManifest
}

// readWhole reads resp's body into memory; a short read is an error.
func readWhole(req *http.Request, resp *http.Response) (*http.Response, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", req.URL.Redacted(), err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// buffered reads a transient answer's (small, error) body into memory so
// that it can be returned after the connection is gone.
func buffered(resp *http.Response) *http.Response {
	if resp == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// once sends req with the stall timeout: every byte of request body sent
// and of answer received restarts it.
func (t *retryTransport) once(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithCancelCause(parent)
	stall := &StallError{Method: req.Method, URL: req.URL.Redacted(), Limit: t.p.RequestTimeout}
	w := &watchdog{d: t.p.RequestTimeout}
	w.timer = time.AfterFunc(w.d, func() { cancel(stall) })
	r := req.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &progressReader{ReadCloser: r.Body, w: w}
	}
	resp, err := t.inner.RoundTrip(r)
	if err != nil {
		w.stop()
		if context.Cause(ctx) == stall && parent.Err() == nil {
			err = fmt.Errorf("%w: %w", stall, err)
		}
		cancel(nil)
		return nil, err
	}
	w.kick()
	resp.Body = &watchedBody{ReadCloser: resp.Body, w: w, ctx: ctx, parent: parent, stall: stall, cancel: cancel}
	return resp, nil
}

// watchdog is a restartable timer.
type watchdog struct {
	d       time.Duration
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func (w *watchdog) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.timer.Reset(w.d)
	}
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
}

type progressReader struct {
	io.ReadCloser
	w *watchdog
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.w.kick()
	return n, err
}

// watchedBody is an answer's body under the stall timeout; closing it
// releases the request's context.
type watchedBody struct {
	io.ReadCloser
	w           *watchdog
	ctx, parent context.Context
	stall       *StallError
	cancel      context.CancelCauseFunc
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.w.kick()
	if err != nil && err != io.EOF && context.Cause(b.ctx) == b.stall && b.parent.Err() == nil {
		err = fmt.Errorf("%w: %w", b.stall, err)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.w.stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}
