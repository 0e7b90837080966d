package build

import (
	"strings"
	"time"

	"github.com/devcache/devcache/internal/progresstest"
)

// step is one vertex or progress item of a solve, as --progress rawjson
// reported it (internal/progresstest).
type step = progresstest.Step

// steps reads --progress rawjson output: vertices by name, and the
// exporter's progress items ("exporting layers", "rewriting layers …",
// "pushing layers", …) by name.
func steps(rawjson string) map[string]*step { return progresstest.Read(rawjson) }

// sum is the total duration of the steps whose name starts with prefix.
func sum(ss map[string]*step, prefix string) time.Duration {
	var d time.Duration
	for n, s := range ss {
		if strings.HasPrefix(n, prefix) && !s.Stopped.IsZero() {
			d += s.Took()
		}
	}
	return d
}

// span is the solve's wall time: first step started to last step done.
func span(ss map[string]*step) time.Duration {
	var first, last time.Time
	for _, s := range ss {
		if s.Started.IsZero() {
			continue
		}
		if first.IsZero() || s.Started.Before(first) {
			first = s.Started
		}
		if s.Stopped.After(last) {
			last = s.Stopped
		}
	}
	return last.Sub(first)
}
