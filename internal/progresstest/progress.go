// Package progresstest reads BuildKit's `--progress rawjson` output, as
// the plugin prints it, for tests and benchmarks: which steps ran (rather
// than came from a cache) and when each step and progress item started
// and stopped.
package progresstest

import (
	"bufio"
	"encoding/json"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
)

// Step is one vertex name, or one progress item ("exporting layers",
// "rewriting layers …"), of the output.
type Step struct {
	Name             string
	Started, Stopped time.Time
	// Ran is true when a vertex of this name ran in one of the solves:
	// started and not cached.
	Ran bool
}

// Took is the time from the step's first start to its last stop.
func (s *Step) Took() time.Duration { return s.Stopped.Sub(s.Started) }

// vertex is what the updates of one vertex digest said, per solve.
type vertex struct {
	name                 string
	started, cached, ran bool
}

// update notes one update. A command may solve the same definition more
// than once (push: the image, then the registry layer cache with every
// step cached); each solve first lists its vertices unstarted, which
// begins the vertex's next solve. Within a solve a vertex ran when it
// started and no update said it was cached (a remote cache hit is
// "started" while its cache key is computed).
func (v *vertex) update(u *client.Vertex) {
	if u.Started == nil && v.started {
		v.ran = v.ran || !v.cached
		v.started, v.cached = false, false
	}
	v.name = u.Name
	v.cached = v.cached || u.Cached
	v.started = v.started || u.Started != nil
}

// Read reads rawjson output (other lines are skipped): steps by name.
func Read(rawjson string) map[string]*Step {
	out := map[string]*Step{}
	get := func(name string) *Step {
		s := out[name]
		if s == nil {
			s = &Step{Name: name}
			out[name] = s
		}
		return s
	}
	vertices := map[string]*vertex{}
	sc := bufio.NewScanner(strings.NewReader(rawjson))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var st client.SolveStatus
		if !strings.HasPrefix(sc.Text(), "{") || json.Unmarshal(sc.Bytes(), &st) != nil {
			continue
		}
		for _, u := range st.Vertexes {
			v := vertices[u.Digest.String()]
			if v == nil {
				v = &vertex{}
				vertices[u.Digest.String()] = v
			}
			v.update(u)
			get(u.Name).span(u.Started, u.Completed)
		}
		for _, u := range st.Statuses {
			get(u.ID).span(u.Started, u.Completed)
		}
	}
	for _, v := range vertices {
		get(v.name).Ran = get(v.name).Ran || v.ran || (v.started && !v.cached)
	}
	return out
}

// span widens the step to [started, completed].
func (s *Step) span(started, completed *time.Time) {
	if started != nil && (s.Started.IsZero() || started.Before(s.Started)) {
		s.Started = *started
	}
	if completed != nil && completed.After(s.Stopped) {
		s.Stopped = *completed
	}
}
