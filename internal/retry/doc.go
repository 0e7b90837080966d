// Package retry is devcache's one policy for failed registry requests,
// shared by every registry call the plugin and the frontend make
// themselves (the plugin's registry.Client, resolution, the frontend's own
// lookups). Transient failures — 408, 429 (honouring Retry-After), 502,
// 503, 504, connection resets and broken connections, and a request that
// makes no progress for Policy.RequestTimeout — are retried with capped
// exponential backoff and jitter until the request's context ends (the
// command's --timeout) or, without a deadline, Policy.MaxElapsed — but a
// request that stalls Policy.Stalls times fails then; every other answer (400, 401, 403, 404, 500 on a write, invalid manifests, connection
// refused) is returned at once, with the registry's message.
//
// It owns the classification (Transient), the HTTP transport that retries
// (Policy.Transport) and the go-containerregistry options that make ggcr
// defer to it (RemoteOptions). docs/failure-behaviour.md states the policy
// for users. It imports go-containerregistry only; never BuildKit, cobra or
// devcache's other packages.
package retry
