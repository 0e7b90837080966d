package plugin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// durationValue is the type of every duration flag (--max-age,
// --older-than, --timeout): a Go duration ("90m", "168h") that may start
// with whole days ("7d", "1d12h"), as retention periods are written.
type durationValue time.Duration

// durationVar registers a duration flag on fs.
func durationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// Type is "duration", as pflag's own, so --help hides a zero default.
func (d *durationValue) Type() string { return "duration" }

func (d *durationValue) String() string { return time.Duration(*d).String() }

// parseDuration reads "[<N>d]<Go duration>", e.g. "7d", "1d12h", "36h",
// "0". Days are 24 hours.
func parseDuration(s string) (time.Duration, error) {
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
