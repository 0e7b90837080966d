package conformance

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Capture is what the reference CLI handed to (fake) buildx.
type Capture struct {
	// Features in install order.
	Features []CapturedFeature
	// Label is the devcontainer.metadata label as BuildKit stores it; ""
	// when there is no LABEL.
	Label string
	// ConfigEnvLines are the ENV lines after the LABEL (config containerEnv).
	ConfigEnvLines []string
	// HomesRun is the RUN text that appends the _*_HOME lines (without "RUN ").
	HomesRun string
	// BuiltinEnv is devcontainer-features.builtin.env as written by the CLI.
	BuiltinEnv string
	// ImageUser is the _DEV_CONTAINERS_IMAGE_USER build arg.
	ImageUser string
}

// CapturedFeature is one feature of the generated Dockerfile and context.
type CapturedFeature struct {
	ConsecutiveID string
	// EnvLines are the feature's ENV lines before its RUN, verbatim.
	EnvLines []string
	EnvFile  string
	Wrapper  string
	// Files is the staged payload (without the generated files).
	Files map[string]string
}

var runSourceRE = regexp.MustCompile(`^RUN --mount=type=bind,from=dev_containers_feature_content_source,source=([^,]+),`)

// ReadCapture parses the fake docker's capture directory.
func ReadCapture(dir string) (*Capture, error) {
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		return nil, fmt.Errorf("parsing the generated Dockerfile: %w", err)
	}
	c := &Capture{}
	ctx := filepath.Join(dir, "contexts", "dev_containers_feature_content_source")
	inTarget, afterLabel := false, false
	var pendingEnv []string
	for _, n := range res.AST.Children {
		kind := strings.ToLower(n.Value)
		if kind == "from" {
			inTarget = strings.Contains(n.Original, "AS dev_containers_target_stage")
			continue
		}
		if !inTarget {
			continue
		}
		switch kind {
		case "env":
			if afterLabel {
				c.ConfigEnvLines = append(c.ConfigEnvLines, n.Original)
			} else {
				pendingEnv = append(pendingEnv, n.Original)
			}
		case "run":
			if m := runSourceRE.FindStringSubmatch(n.Original); m != nil {
				f := CapturedFeature{ConsecutiveID: m[1], EnvLines: pendingEnv, Files: map[string]string{}}
				pendingEnv = nil
				fdir := filepath.Join(ctx, m[1])
				env, err := os.ReadFile(filepath.Join(fdir, "devcontainer-features.env"))
				if err != nil {
					return nil, err
				}
				wrapper, err := os.ReadFile(filepath.Join(fdir, "devcontainer-features-install.sh"))
				if err != nil {
					return nil, err
				}
				f.EnvFile, f.Wrapper = string(env), string(wrapper)
				err = filepath.Walk(fdir, func(p string, info os.FileInfo, err error) error {
					if err != nil || info.IsDir() {
						return err
					}
					rel, _ := filepath.Rel(fdir, p)
					if rel == "devcontainer-features.env" || rel == "devcontainer-features-install.sh" {
						return nil
					}
					data, err := os.ReadFile(p)
					f.Files[filepath.ToSlash(rel)] = string(data)
					return err
				})
				if err != nil {
					return nil, err
				}
				c.Features = append(c.Features, f)
			} else if strings.Contains(n.Original, "_CONTAINER_USER_HOME") {
				c.HomesRun = strings.TrimPrefix(n.Original, "RUN ")
			}
		case "label":
			ins, err := instructions.ParseInstruction(n)
			if err != nil {
				return nil, err
			}
			for _, kv := range ins.(*instructions.LabelCommand).Labels {
				if kv.Key == "devcontainer.metadata" {
					v, _, err := shell.NewLex('\\').ProcessWord(kv.Value, shell.EnvsFromSlice(nil))
					if err != nil {
						return nil, err
					}
					c.Label = v
				}
			}
			afterLabel = true
		}
	}
	if b, err := os.ReadFile(filepath.Join(ctx, "devcontainer-features.builtin.env")); err == nil {
		c.BuiltinEnv = string(b)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args.json"))
	if err == nil {
		if m := regexp.MustCompile(`"_DEV_CONTAINERS_IMAGE_USER=([^"]*)"`).FindSubmatch(args); m != nil {
			c.ImageUser = string(m[1])
		}
	}
	return c, nil
}
