package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"strings"
	"testing"
	"time"

	dccache "github.com/devcache/devcache/plugin/cache"
)

// TestEnvMaxAge: DEVCACHE_MAX_AGE is parsed as --max-age is, days
// included; a value --max-age refuses is an error (exit 2) naming the
// variable, never "any age"; the command line still wins over it.
func TestEnvMaxAge(t *testing.T) {
	ws, cache, tag := imageEntryFixture(t)
	pushEntry(t, cache, tag, time.Unix(0, 0), map[string]string{dccache.AnnotationCreated: time.Now().Add(-8 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	probe := func(env string, args ...string) cmdResult {
		t.Helper()
		t.Setenv("DEVCACHE_MAX_AGE", env)
		return runDevcache(t, append([]string{"probe", "--workspace-folder", ws, "--cache-repo", cache}, args...)...)
	}

	if r := probe("7d"); r.code != 1 || !strings.Contains(r.stderr, "older than --max-age 168h") {
		t.Errorf("8 days old, DEVCACHE_MAX_AGE=7d: %s", r)
	}
	if r := probe("8d12h"); r.code != 0 {
		t.Errorf("8 days old, DEVCACHE_MAX_AGE=8d12h: %s", r)
	}
	r := probe("soon")
	if r.code != 2 || !strings.Contains(r.stderr, `DEVCACHE_MAX_AGE="soon"`) || r.stdout != "" {
		t.Errorf("DEVCACHE_MAX_AGE=soon: %s", r)
	}
	if r := probe("soon", "--max-age", "9d"); r.code != 0 {
		t.Errorf("DEVCACHE_MAX_AGE=soon overridden by --max-age 9d: %s", r)
	}
	if r := probe("", "--max-age", "7d"); r.code != 1 || !strings.Contains(r.stderr, "older than --max-age") {
		t.Errorf("--max-age 7d: %s", r)
	}
}

// TestEnvBadValueNamesVariable: every DEVCACHE_* variable is parsed by its
// flag; a bad value fails the commands that have the flag, naming it, and
// leaves the others alone.
func TestEnvBadValueNamesVariable(t *testing.T) {
	isolate(t)
	ws := imageWorkspace(t, `{"image": "127.0.0.1:1/base:1"}`)
	for _, c := range []struct {
		env, value string
		args       []string
	}{
		{"DEVCACHE_OLDER_THAN", "a month", []string{"prune", "--cache-repo", "127.0.0.1:1/cache"}},
		{"DEVCACHE_TIMEOUT", "forever", []string{"plan", "--workspace-folder", ws}},
		{"DEVCACHE_NO_LOCKFILE", "maybe", []string{"push", "--workspace-folder", ws, "--cache-repo", "127.0.0.1:1/cache"}},
		{"DEVCACHE_KEEP", "few", []string{"prune", "--cache-repo", "127.0.0.1:1/cache", "--older-than", "1d"}},
	} {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			r := runDevcache(t, c.args...)
			if r.code == 0 || !strings.Contains(r.stderr, c.env+`="`+c.value+`"`) {
				t.Errorf("%s=%q %v: %s", c.env, c.value, c.args, r)
			}
		})
	}
	// A command without the flag does not care.
	t.Setenv("DEVCACHE_OLDER_THAN", "a month")
	if r := runDevcache(t, "version"); r.code != 0 {
		t.Errorf("version with a bad DEVCACHE_OLDER_THAN: %s", r)
	}
}

// TestParseDuration: Go durations, with whole days in front.
func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute,
		"0": 0, "0d": 0, "2d30m15s": 48*time.Hour + 30*time.Minute + 15*time.Second,
	} {
		if got, err := cmdline.ParseDuration(in); err != nil || got != want {
			t.Errorf("cmdline.ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"soon", "", "d", "7", "-1d", "1.5d", "7days", "1d-2h", "1d2d", "999999999d"} {
		if got, err := cmdline.ParseDuration(in); err == nil {
			t.Errorf("cmdline.ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}
