package devcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WellKnownPaths are the config paths discovery tries, in order, relative to
// the workspace folder. `.devcontainer/<name>/devcontainer.json` is not
// searched (the reference CLI does not either); pass it explicitly.
var WellKnownPaths = []string{
	filepath.Join(".devcontainer", "devcontainer.json"),
	".devcontainer.json",
}

// ErrNotFound is wrapped by the error of Find when no config exists.
var ErrNotFound = errors.New("dev container config not found")

type notFoundError struct{ path string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("Dev container config (%s) not found.", e.path)
}
func (e *notFoundError) Unwrap() error { return ErrNotFound }

// Find returns the absolute path of the workspace's config. explicit, when
// set, is resolved against the current directory and must be a file;
// otherwise the well-known paths are tried in order. The error for a missing
// config is the reference's `Dev container config (<path>) not found.`,
// naming the explicit path or <workspace>/.devcontainer/devcontainer.json.
func Find(workspace, explicit string) (string, error) {
	ws, err := filepath.Abs(workspace)
	if err != nil {
		return "", err
	}
	if explicit != "" {
		p, err := filepath.Abs(explicit)
		if err != nil {
			return "", err
		}
		if isFile(p) {
			return p, nil
		}
		return "", &notFoundError{path: p}
	}
	for _, rel := range WellKnownPaths {
		p := filepath.Join(ws, rel)
		if isFile(p) {
			return p, nil
		}
	}
	return "", &notFoundError{path: filepath.Join(ws, WellKnownPaths[0])}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Load reads and parses the config at the absolute path configPath of the
// given workspace. Errors name the file relative to the workspace.
func Load(workspace, configPath string, vars *Variables) (*Config, error) {
	data, err := os.ReadFile(configPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &notFoundError{path: configPath}
		}
		return nil, err
	}
	return ParseAt(DisplayName(workspace, configPath), filepath.ToSlash(configPath), data, vars)
}

// DisplayName is how errors name a file of the workspace: relative to the
// workspace when inside it, else as given.
func DisplayName(workspace, p string) string {
	if workspace != "" {
		if ws, err := filepath.Abs(workspace); err == nil {
			if rel, err := filepath.Rel(ws, p); err == nil && filepath.IsLocal(rel) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return p
}
