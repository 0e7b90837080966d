package stack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// Component is the state of one part of a stack, as Status reports it.
type Component struct {
	Name   string // registry, buildkitd, an image reference, or builder
	PID    int    // for daemons: the running pid, else 0
	Detail string // address, digest or log file
	Err    error  // nil when the part is running, answering or present
}

// Status inspects the daemons, the seed images and the buildx builder.
func (s *Stack) Status(ctx context.Context) []Component {
	var cs []Component
	for _, d := range daemonFiles {
		addr, check := s.Registry, registryAnswers
		if d.name == buildkitdName {
			addr, check = s.BuildkitAddr, buildkitdAnswers
		}
		c := Component{Name: d.name, Detail: addr + " (log " + filepath.Join(s.Dir, d.name+".log") + ")"}
		pid, ok := ourPid(filepath.Join(s.Dir, d.name+".pid"), filepath.Join(s.Dir, d.config))
		if ok {
			c.PID = pid
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			if err := check(cctx, addr); err != nil {
				c.Err = fmt.Errorf("pid %d does not answer: %w", pid, err)
			}
			cancel()
		} else {
			c.Err = errors.New("not running")
		}
		cs = append(cs, c)
	}
	if cs[0].Err == nil {
		for _, repo := range []string{BusyboxRepo, DebianRepo} {
			c := Component{Name: s.Ref(repo)}
			if ref, err := parseRef(c.Name); err != nil {
				c.Err = err
			} else if d, ok, err := headImage(ctx, ref); err != nil {
				c.Err = err
			} else if !ok {
				c.Err = errors.New("not seeded")
			} else {
				c.Detail = d.Digest.String()
			}
			cs = append(cs, c)
		}
	}
	b := Component{Name: "builder " + s.Builder, Detail: "DOCKER_CONFIG=" + s.DockerConfig}
	if !s.builderConfigured() {
		b.Err = errors.New("not configured")
	}
	return append(cs, b)
}

// Check reports nil when both daemons run and answer, else what is wrong
// and where its log is.
func (s *Stack) Check(ctx context.Context) error {
	var errs []error
	for _, c := range s.Status(ctx)[:len(daemonFiles)] {
		if c.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w; see %s", c.Name, c.Err, filepath.Join(s.Dir, c.Name+".log")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stack in %s is not healthy:\n%w", s.Dir, err)
	}
	return nil
}
