// docker buildx bake              -> the frontend image (default group)
// docker buildx bake plugin       -> the plugin's binaries docker-devcache and
//                                     devcache in dist/plugin/<os>_<arch>/
// docker buildx bake --print      -> the resolved build definitions
//
// Releases (hack/release, .github/workflows/release.yml):
// VERSION=v1.2.3 docker buildx bake release --push
//   -> the frontend image for linux/amd64 and linux/arm64 as
//      FRONTEND_REPO:1.2.3, :1.2 and :1 (a pre-release only as :1.2.3-rc.1),
//      and the plugin binaries docker-devcache_v1.2.3_<os>_<arch>[.exe] (the
//      docker CLI plugin) and devcache_v1.2.3_<os>_<arch>[.exe] (the engine it
//      runs) in dist/.bake/plugin/<os>_<arch>/, with the platform's SBOM and
//      provenance attestations. hack/release flattens them into dist/release/
//      (each binary with its platform's attestations) and writes SHA256SUMS.

variable "GO_IMAGE" {
  default = "golang:1.26.8-bookworm"
}

variable "GOPROXY" {
  default = ""
}

variable "VERSION" {
  default = "dev"
}

// FRONTEND_REPO is where releases push the frontend image.
variable "FRONTEND_REPO" {
  default = "ghcr.io/devcache/frontend"
}

// FRONTEND_IMAGE is the frontend image the plugin names as its own in
// `docker devcache version`, and the tag of the single-platform frontend
// target.
variable "FRONTEND_IMAGE" {
  default = "${FRONTEND_REPO}:${trimprefix(VERSION, "v")}"
}

// ATTEST_SBOM adds SBOM attestations to release artifacts. The SBOM scanner
// is an image from Docker Hub (docker/buildkit-syft-scanner), so a dry run
// without access to it sets ATTEST_SBOM=false; provenance needs no image.
variable "ATTEST_SBOM" {
  default = true
}

// release_tags are the frontend image's tags for version v: like
// docker/dockerfile, vX.Y.Z is tagged X.Y.Z, X.Y and X (moving tags that
// the newest patch release takes over); anything else (a pre-release, dev)
// only by its own name without the leading v.
function "release_tags" {
  params = [repo, v]
  result = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", v)) ? [
    "${repo}:${trimprefix(v, "v")}",
    "${repo}:${join(".", slice(split(".", trimprefix(v, "v")), 0, 2))}",
    "${repo}:${split(".", trimprefix(v, "v"))[0]}",
  ] : ["${repo}:${trimprefix(v, "v")}"]
}

group "default" {
  targets = ["frontend"]
}

// release is every artifact of a release.
group "release" {
  // hack/release publishes whatever a release target writes under
  // dist/.bake/<target>/<os>_<arch>/. The Terraform provider is not here: the
  // registries want zips and a manifest, which hack/provider-dist writes
  // (release.yml runs it).
  targets = ["frontend-release", "plugin-release"]
}

target "_common" {
  context    = "."
  dockerfile = "Dockerfile"
  args = {
    GO_IMAGE       = GO_IMAGE
    GOPROXY        = GOPROXY
    VERSION        = VERSION
    FRONTEND_IMAGE = FRONTEND_IMAGE
  }
}

target "_attest" {
  attest = concat(
    ["type=provenance,mode=max"],
    ATTEST_SBOM ? ["type=sbom"] : [],
  )
}

target "frontend" {
  inherits = ["_common"]
  target   = "frontend"
  tags     = [FRONTEND_IMAGE]
}

target "frontend-all" {
  inherits  = ["frontend"]
  platforms = ["linux/amd64", "linux/arm64"]
}

// frontend-release takes its binaries from the Dockerfile's release-build
// stage, which plugin-release builds too: BuildKit runs the identical
// linux stages once for both targets.
target "frontend-release" {
  inherits = ["frontend-all", "_attest"]
  args     = { FRONTEND_BUILD = "release-build" }
  tags     = release_tags(FRONTEND_REPO, VERSION)
}

target "plugin" {
  inherits = ["_common"]
  target   = "plugin"
  platforms = [
    "linux/amd64", "linux/arm64",
    "darwin/amd64", "darwin/arm64",
    "windows/amd64", "windows/arm64",
  ]
  output = ["type=local,dest=dist/plugin"]
}

target "plugin-release" {
  inherits = ["plugin", "_attest"]
  target   = "plugin-release"
  output   = ["type=local,dest=dist/.bake/plugin"]
}

