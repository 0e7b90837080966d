// Package version holds devcache's version, set at link time with
// -ldflags "-X github.com/devcache/devcache/internal/version.Version=v1.2.3".
package version

// Version is the release version; "dev" for untagged builds.
var Version = "dev"

// FrontendFormat versions the meaning of a Plan for the LLB compiler: bump it
// whenever the same Plan would compile to a different image, so cache keys
// made by older compilers miss.
const FrontendFormat = 1
