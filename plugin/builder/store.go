package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/command"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// nodeGroup is a buildx builder as buildx's store keeps it
// (BUILDX_CONFIG or the docker config directory's buildx/instances/NAME);
// the fields devcache reads, with buildx's JSON names.
type nodeGroup struct {
	Name   string
	Driver string
	Nodes  []storeNode
	// dockerContext: not in the store, a docker context used as a builder
	// (buildx's docker driver), as the "default" builder is.
	dockerContext bool
}

type storeNode struct {
	Name       string
	Endpoint   string
	Platforms  []ocispecs.Platform
	DriverOpts map[string]string
}

// buildxDir is buildx's configuration directory.
func buildxDir(cli command.Cli) string {
	if d := os.Getenv("BUILDX_CONFIG"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(cli.ConfigFile().Filename), "buildx")
}

// findGroup is the named builder, or the current one when name is "",
// as buildx finds them: a builder of the store, else a docker context.
func findGroup(cli command.Cli, name string) (*nodeGroup, error) {
	dir := buildxDir(cli)
	if name == "" {
		var err error
		if name, err = currentName(cli, dir); err != nil {
			return nil, err
		}
	}
	ng, err := readGroup(dir, name)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return ng, err
	}
	if _, err := cli.ContextStore().GetMetadata(name); err != nil && name != "default" {
		return nil, fmt.Errorf("no buildx builder %q (docker buildx ls lists them; --builder NAME or --buildkit-host ADDR chooses one)", name)
	}
	return &nodeGroup{Name: name, Driver: "docker", Nodes: []storeNode{{Name: name, Endpoint: name}}, dockerContext: true}, nil
}

func readGroup(dir, name string) (*nodeGroup, error) {
	b, err := os.ReadFile(filepath.Join(dir, "instances", name))
	if err != nil {
		return nil, err
	}
	var ng nodeGroup
	if err := json.Unmarshal(b, &ng); err != nil {
		return nil, fmt.Errorf("buildx builder %q: %s: %w (docker buildx inspect %s shows whether buildx can read it)", name, filepath.Join(dir, "instances", name), err, name)
	}
	return &ng, nil
}

// currentName is the name of the current builder (`docker buildx use`):
// buildx's "current" file when it is global or for the current docker
// endpoint, else the endpoint's default (defaults/<hash>), else the docker
// context itself.
func currentName(cli command.Cli, dir string) (string, error) {
	key := cli.CurrentContext()
	if key == "default" {
		key = cli.DockerEndpoint().Host
	}
	var cur struct {
		Key    string
		Name   string
		Global bool
	}
	if b, err := os.ReadFile(filepath.Join(dir, "current")); err == nil {
		if err := json.Unmarshal(b, &cur); err != nil {
			return "", fmt.Errorf("%s: %w (docker buildx use NAME rewrites it)", filepath.Join(dir, "current"), err)
		}
		if cur.Name != "" && (cur.Global || cur.Key == key) {
			if _, err := os.Stat(filepath.Join(dir, "instances", cur.Name)); err == nil {
				return cur.Name, nil
			}
			if cur.Key == key { // removed since `docker buildx use`
				return cli.CurrentContext(), nil
			}
		}
	}
	sum := sha256.Sum256([]byte(key))
	if b, err := os.ReadFile(filepath.Join(dir, "defaults", hex.EncodeToString(sum[:])[:20])); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "instances", string(b))); err == nil {
			return string(b), nil
		}
	}
	return cli.CurrentContext(), nil
}
