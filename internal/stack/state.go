package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// state is what Up records in DIR/stack.json for later commands.
type state struct {
	BinDir       string
	BuildkitAddr string
	Registry     string
	DockerConfig string
	Builder      string
	CacheDir     string
}

func writeState(s *Stack) error {
	b, err := json.MarshalIndent(state{
		BinDir:       s.BinDir,
		BuildkitAddr: s.BuildkitAddr,
		Registry:     s.Registry,
		DockerConfig: s.DockerConfig,
		Builder:      s.Builder,
		CacheDir:     s.cacheDir,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", stateFile, err)
	}
	p := filepath.Join(s.Dir, stateFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

func readState(dir string) (state, error) {
	var st state
	p := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("parsing %s: %w", p, err)
	}
	return st, nil
}

// Load describes the stack that an earlier Up recorded in dir, without
// checking that it runs (see Attach).
func Load(dir string) (*Stack, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	st, err := readState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("stack: no stack in %s (no %s; run hack/stack up)", dir, stateFile)
	}
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	return &Stack{
		Dir:          dir,
		BinDir:       st.BinDir,
		BuildkitAddr: st.BuildkitAddr,
		Registry:     st.Registry,
		DockerConfig: st.DockerConfig,
		Builder:      st.Builder,
		cacheDir:     st.CacheDir,
	}, nil
}

// Attach loads the stack in dir and checks that it is healthy.
func Attach(ctx context.Context, dir string) (*Stack, error) {
	s, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	return s, nil
}
