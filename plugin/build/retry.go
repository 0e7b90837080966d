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
