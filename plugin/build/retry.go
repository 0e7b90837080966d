package build

import "strings"

// uploadRaces are registry answers to a blob upload that lost a race with
// another upload of the same blob to the same repository (CNCF
// distribution: two pushes of one layer at once), not a fault of the image.
var uploadRaces = []string{
	"provided digest did not match uploaded content",
	"blob unknown to registry",
}

// IsUploadRace reports whether a solve failed only because its push raced
// another push of the same blobs. Solving again is then cheap (every step is
// cached; only the export repeats) and succeeds once the other upload has
// landed.
func IsUploadRace(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	if !strings.Contains(msg, "failed to push") {
		return false
	}
	for _, s := range uploadRaces {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// transientPushes are the failures of BuildKit's push that BuildKit itself
// does not retry (429) or retried too briefly for a registry under load
// (5xx and broken connections: 4 attempts in about 7 s).
var transientPushes = []string{
	"429 Too Many Requests", "toomanyrequests",
	"502 Bad Gateway", "503 Service Unavailable", "504 Gateway Timeout",
	"connection reset by peer", "broken pipe", "unexpected EOF",
}

// IsTransientPush reports whether a solve failed because its push met a
// transient registry failure. Solving again is cheap (only the export
// repeats, and blobs already uploaded are skipped).
func IsTransientPush(err error) bool {
	if err == nil || !strings.Contains(err.Error(), "failed to push") {
		return false
	}
	for _, s := range transientPushes {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}
