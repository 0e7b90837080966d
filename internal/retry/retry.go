package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Policy is how long requests wait and are retried. The zero value of a
// field takes Default's.
type Policy struct {
	// RequestTimeout is how long one request may make no progress (no
	// request body sent, no answer or body byte received) before it is
	// abandoned and retried: a hung registry fails in this times the
	// attempts that fit in the deadline, not never.
	RequestTimeout time.Duration
	// Stalls is how many stalled attempts of one request are made before
	// it fails (a registry that accepts connections but never answers is
	// down, not busy).
	Stalls int
	// MaxElapsed bounds the retries of a request whose context has no
	// deadline.
	MaxElapsed time.Duration
	// ServerErrors is how many times a read (GET, HEAD) answered 500 is
	// asked again. A registry's 500 is mostly a lasting fault, but
	// distribution answers one for a moment when another client writes
	// the same manifest or blob (concurrent pushes of one key), so reads
	// get a few quick retries; writes none.
	ServerErrors int
	// Base is the first backoff; each retry doubles it up to Cap. The wait
	// is drawn between half and all of it (jitter).
	Base, Cap time.Duration
}

// Default is the policy of every client that sets none.
var Default = Policy{RequestTimeout: 10 * time.Second, Stalls: 3, ServerErrors: 2, MaxElapsed: 2 * time.Minute, Base: 250 * time.Millisecond, Cap: 8 * time.Second}

func (p Policy) withDefaults() Policy {
	if p.RequestTimeout <= 0 {
		p.RequestTimeout = Default.RequestTimeout
	}
	if p.Stalls <= 0 {
		p.Stalls = Default.Stalls
	}
	if p.ServerErrors <= 0 {
		p.ServerErrors = Default.ServerErrors
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = Default.MaxElapsed
	}
	if p.Base <= 0 {
		p.Base = Default.Base
	}
	if p.Cap <= 0 {
		p.Cap = Default.Cap
	}
	return p
}

// Backoff is the wait before retry number attempt (1 for the first
// retry): Base·2^(attempt-1), capped, with jitter.
func (p Policy) Backoff(attempt int) time.Duration {
	p = p.withDefaults()
	d := p.Base
	for i := 1; i < attempt && d < p.Cap; i++ {
		d *= 2
	}
	d = min(d, p.Cap)
	return d/2 + rand.N(d/2+1)
}

// TransientStatus tells whether a registry answer with this status is
// worth asking again.
func TransientStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Transient tells whether err is worth retrying: a transient status, a
// reset or broken connection, a stalled request. An error the transport
// already gave up on, a context's end and everything else are not.
func Transient(err error) bool {
	var g *GaveUpError
	var s *StallError
	var te *transport.Error
	var ne net.Error
	switch {
	case err == nil, errors.As(err, &g):
		return false
	case errors.As(err, &s):
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.As(err, &te):
		return TransientStatus(te.StatusCode)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return false
}

// GaveUpError is a transient failure that lasted until the deadline.
type GaveUpError struct {
	Attempts int
	Elapsed  time.Duration
	Err      error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("%v (gave up after %d attempts in %s; see docs/failure-behaviour.md)", e.Err, e.Attempts, e.Elapsed.Round(100*time.Millisecond))
}

func (e *GaveUpError) Unwrap() error { return e.Err }

// StallError is a request abandoned after RequestTimeout without progress.
type StallError struct {
	Method, URL string
	Limit       time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s %s: no progress for %s (per-request timeout, --request-timeout)", e.Method, e.URL, e.Limit)
}

// Timeout makes a StallError a net.Error-style timeout.
func (e *StallError) Timeout() bool { return true }

// RemoteOptions make go-containerregistry defer to this package: no
// status retries of its own (the transport did them), and its retries of
// whole blob uploads (which the transport cannot replay) only for
// Transient errors, a few times.
func RemoteOptions() []remote.Option {
	return []remote.Option{
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(Transient),
		remote.WithRetryBackoff(remote.Backoff{Duration: Default.Base, Factor: 2, Jitter: 0.5, Steps: 4, Cap: Default.Cap}),
	}
}
