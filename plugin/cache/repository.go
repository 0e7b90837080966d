package cache

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// ParseRepository parses a cache repository: a repository without tag or
// digest, as entries are tagged by their key. An error quotes s.
func ParseRepository(s string) (name.Repository, error) {
	if strings.ContainsAny(s, "@") || (strings.LastIndex(s, ":") > strings.LastIndex(s, "/")) {
		return name.Repository{}, fmt.Errorf("%q: give a repository without tag or digest; entries are tagged by their key", s)
	}
	r, err := name.NewRepository(s)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%q: %w", s, err)
	}
	return r, nil
}

// ParseDuration reads a retention period or age, "[<N>d]<Go duration>",
// e.g. "7d", "1d12h", "36h", "0". Days are 24 hours.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	days, rest, hasDays := strings.Cut(in, "d")
	if !hasDays {
		return parseGoDuration(s, in)
	}
	n, err := strconv.ParseUint(days, 10, 32)
	if err != nil || n > maxDays {
		return 0, durationError(s)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	r, err := parseGoDuration(s, rest)
	if err != nil || r < 0 || d+r < d {
		return 0, durationError(s)
	}
	return d + r, nil
}

// maxDays keeps a day count inside time.Duration (about 292 years).
const maxDays = 100000

func parseGoDuration(orig, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, durationError(orig)
	}
	return d, nil
}

func durationError(s string) error {
	return fmt.Errorf("invalid duration %q: use e.g. 7d, 1d12h, 168h or 90m", s)
}
