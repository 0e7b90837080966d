package build

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client"
	"golang.org/x/term"
)

// ParseOutputs turns --output values into exporter entries as buildx's
// `--output` does: "type=T,dest=D,k=v…", or a bare path for a local
// directory ("-" for a tar stream on stdout); type=registry is the image
// exporter with push=true. names (the -t tags, comma-joined) become the
// name of the exporters that take one and have none.
func ParseOutputs(vals []string, names string) ([]client.ExportEntry, error) {
	var outs []client.ExportEntry
	stdoutUsed := false
	for _, v := range vals {
		attrs, err := parseCSV(v)
		if err != nil {
			return nil, fmt.Errorf("--output %q: %w", v, err)
		}
		if len(attrs) == 0 {
			continue
		}
		if _, ok := attrs["type"]; !ok && !strings.Contains(v, "=") {
			attrs = map[string]string{"type": client.ExporterLocal, "dest": v}
			if v == "-" {
				attrs["type"] = client.ExporterTar
			}
		}
		e, err := exportEntry(attrs, names, &stdoutUsed)
		if err != nil {
			return nil, fmt.Errorf("--output %q: %w", v, err)
		}
		outs = append(outs, e)
	}
	return outs, nil
}

// exportEntry is one parsed --output: its type, destination and attributes.
func exportEntry(attrs map[string]string, names string, stdoutUsed *bool) (client.ExportEntry, error) {
	e := client.ExportEntry{Type: attrs["type"], Attrs: map[string]string{}}
	if e.Type == "" {
		return e, errors.New("type is required (type=registry, image, docker, oci, tar or local)")
	}
	dest := attrs["dest"]
	for k, v := range attrs {
		if k != "type" && k != "dest" {
			e.Attrs[k] = v
		}
	}
	if names != "" && e.Attrs["name"] == "" {
		switch e.Type {
		case client.ExporterImage, "registry", client.ExporterOCI, client.ExporterDocker:
			e.Attrs["name"] = names
		}
	}
	file, dir := false, false
	switch e.Type {
	case client.ExporterLocal:
		dir = true
	case client.ExporterTar:
		file = true
	case client.ExporterOCI, client.ExporterDocker:
		tar, err := strconv.ParseBool(e.Attrs["tar"])
		if err != nil {
			tar = true
		}
		file, dir = tar, !tar
	case "registry":
		e.Type = client.ExporterImage
		e.Attrs["push"] = "true"
		if _, ok := e.Attrs["unpack"]; !ok {
			e.Attrs["unpack"] = "false"
		}
	}
	if dir {
		return e, outputDir(&e, dest)
	}
	if file {
		return e, outputFile(&e, dest, stdoutUsed)
	}
	return e, nil
}

// outputDir sets a directory destination.
func outputDir(e *client.ExportEntry, dest string) error {
	if dest == "" || dest == "-" {
		return fmt.Errorf("the %s exporter needs dest=DIR", e.Type)
	}
	if fi, err := os.Stat(dest); err == nil && !fi.IsDir() {
		return fmt.Errorf("destination %s is a file, not a directory", dest)
	}
	e.OutputDir = dest
	return nil
}

// outputFile sets a file (or stdout) destination; a docker export without
// one loads into the engine (see RouteExports).
func outputFile(e *client.ExportEntry, dest string, stdoutUsed *bool) error {
	if dest == "" && e.Type != client.ExporterDocker {
		dest = "-"
	}
	switch dest {
	case "":
		return nil
	case "-":
		if *stdoutUsed {
			return errors.New("only one output can write to stdout")
		}
		if term.IsTerminal(int(os.Stdout.Fd())) {
			return fmt.Errorf("the %s exporter refuses to write to a terminal: set dest=FILE or redirect stdout", e.Type)
		}
		*stdoutUsed = true
		e.Output = func(map[string]string) (io.WriteCloser, error) { return nopCloser{os.Stdout}, nil }
		return nil
	}
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		return fmt.Errorf("destination %s is a directory, not a file", dest)
	}
	e.Output = func(map[string]string) (io.WriteCloser, error) { return os.Create(dest) }
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// ParseCaches turns --cache-from/--cache-to values into cache entries as
// buildx does: "type=T,k=v…", or a bare reference for type=registry. A
// GitHub Actions cache (type=gha) takes its token and URL from the
// runner's environment; without a token it is skipped, as in buildx.
func ParseCaches(flag string, vals []string) ([]client.CacheOptionsEntry, error) {
	var outs []client.CacheOptionsEntry
	for _, v := range vals {
		attrs, err := parseCSV(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, v, err)
		}
		if len(attrs) == 0 {
			continue
		}
		if !strings.Contains(v, "=") {
			attrs = map[string]string{"type": "registry", "ref": v}
		}
		e := client.CacheOptionsEntry{Type: attrs["type"], Attrs: map[string]string{}}
		if e.Type == "" {
			return nil, fmt.Errorf("%s %q: type is required (e.g. type=registry,ref=REPO:TAG)", flag, v)
		}
		for k, val := range attrs {
			if k != "type" {
				e.Attrs[k] = val
			}
		}
		if e.Type == "gha" && !githubCache(&e) {
			continue
		}
		outs = append(outs, e)
	}
	return outs, nil
}

// githubCache fills a gha cache entry's token and URL from the Actions
// runner's environment; false without a token (not in Actions).
func githubCache(e *client.CacheOptionsEntry) bool {
	for attr, env := range map[string]string{"token": "ACTIONS_RUNTIME_TOKEN", "url": "ACTIONS_CACHE_URL", "url_v2": "ACTIONS_RESULTS_URL"} {
		if _, ok := e.Attrs[attr]; !ok {
			if v, ok := os.LookupEnv(env); ok {
				e.Attrs[attr] = v
			}
		}
	}
	if _, ok := e.Attrs["version"]; !ok {
		if v, _ := strconv.ParseBool(os.Getenv("ACTIONS_CACHE_SERVICE_V2")); v {
			e.Attrs["version"] = "2"
		}
	}
	return e.Attrs["token"] != ""
}

// parseCSV splits "k=v,k2=v2" (CSV quoting allowed) into attributes; a
// field without "=" is kept with an empty key's value for the caller.
func parseCSV(s string) (map[string]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	fields, err := r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			if len(fields) == 1 {
				return map[string]string{"": f}, nil
			}
			return nil, fmt.Errorf("field %q is not KEY=VALUE", f)
		}
		attrs[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return attrs, nil
}
