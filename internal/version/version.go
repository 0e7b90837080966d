// Package version holds devcache's version, set at link time with
// -ldflags "-X github.com/devcache/devcache/internal/version.Version=v1.2.3"
// (the Dockerfile's VERSION build arg, docker-bake.hcl's VERSION variable).
package version

// Version is the release version; "dev" for untagged builds.
var Version = "dev"

// FrontendImage is the frontend image released with this plugin (e.g.
// ghcr.io/devcache/frontend:1.2.3), set at link time like Version from the
// bake file's FRONTEND_IMAGE; empty when unknown (a go build or go install).
var FrontendImage = ""

// FrontendFormat versions the meaning of a Plan for the LLB compiler: bump it
// whenever the same Plan would compile to a different image, so cache keys
// made by older compilers miss.
const FrontendFormat = 1
