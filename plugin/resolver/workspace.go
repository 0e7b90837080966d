package resolver

import (
	"fmt"
	"os"
	"path/filepath"
)

// Workspace is where the config lives on the client.
type Workspace struct {
	Folder     string // absolute workspace folder: the build context
	ConfigPath string // absolute path of devcontainer.json
}

// FindWorkspace finds the workspace folder and its config the way the
// reference CLI does: config as given (relative to the current directory),
// else .devcontainer/devcontainer.json, then .devcontainer.json in folder
// (default: the current directory).
func FindWorkspace(folder, config string) (*Workspace, error) {
	if folder == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		folder = wd
	}
	folder, err := filepath.Abs(folder)
	if err != nil {
		return nil, err
	}
	if config != "" {
		p, err := filepath.Abs(config)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return nil, fmt.Errorf("Dev container config (%s) not found.", config)
		}
		return &Workspace{Folder: folder, ConfigPath: p}, nil
	}
	for _, rel := range []string{".devcontainer/devcontainer.json", ".devcontainer.json"} {
		p := filepath.Join(folder, rel)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return &Workspace{Folder: folder, ConfigPath: p}, nil
		}
	}
	return nil, fmt.Errorf("Dev container config (%s) not found.", filepath.Join(folder, ".devcontainer/devcontainer.json"))
}
