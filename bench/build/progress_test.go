package build

import (
	"bufio"
	"encoding/json"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
)

// step is one vertex or progress item of a solve, as --progress rawjson
// reported it.
type step struct {
	name             string
	started, stopped time.Time
	cached, ran      bool
}

func (s *step) took() time.Duration { return s.stopped.Sub(s.started) }

// steps reads --progress rawjson output: vertices by name, and the
// exporter's progress items ("exporting layers", "rewriting layers …",
// "pushing layers", …) by name.
func steps(rawjson string) map[string]*step {
	out := map[string]*step{}
	get := func(name string) *step {
		s := out[name]
		if s == nil {
			s = &step{name: name}
			out[name] = s
		}
		return s
	}
	span := func(s *step, started, completed *time.Time) {
		if started != nil && (s.started.IsZero() || started.Before(s.started)) {
			s.started = *started
		}
		if completed != nil && completed.After(s.stopped) {
			s.stopped = *completed
		}
	}
	sc := bufio.NewScanner(strings.NewReader(rawjson))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var st client.SolveStatus
		if !strings.HasPrefix(sc.Text(), "{") || json.Unmarshal(sc.Bytes(), &st) != nil {
			continue
		}
		for _, v := range st.Vertexes {
			s := get(v.Name)
			s.cached = s.cached || v.Cached
			s.ran = s.ran || (v.Started != nil && !v.Cached)
			span(s, v.Started, v.Completed)
		}
		for _, v := range st.Statuses {
			span(get(v.ID), v.Started, v.Completed)
		}
	}
	return out
}

// sum is the total duration of the steps whose name starts with prefix.
func sum(ss map[string]*step, prefix string) time.Duration {
	var d time.Duration
	for n, s := range ss {
		if strings.HasPrefix(n, prefix) && !s.stopped.IsZero() {
			d += s.took()
		}
	}
	return d
}

// span is the solve's wall time: first step started to last step done.
func span(ss map[string]*step) time.Duration {
	var first, last time.Time
	for _, s := range ss {
		if s.started.IsZero() {
			continue
		}
		if first.IsZero() || s.started.Before(first) {
			first = s.started
		}
		if s.stopped.After(last) {
			last = s.stopped
		}
	}
	return last.Sub(first)
}
