// docker buildx bake              -> the frontend image (default group)
// docker buildx bake plugin       -> plugin binaries in dist/plugin/<os>_<arch>/
// docker buildx bake --print      -> the resolved build definitions

variable "GO_IMAGE" {
  default = "golang:1.26.8-bookworm"
}

variable "GOPROXY" {
  default = ""
}

variable "VERSION" {
  default = "dev"
}

variable "FRONTEND_IMAGE" {
  default = "ghcr.io/devcache/frontend:${VERSION}"
}

group "default" {
  targets = ["frontend"]
}

target "_common" {
  context    = "."
  dockerfile = "Dockerfile"
  args = {
    GO_IMAGE = GO_IMAGE
    GOPROXY  = GOPROXY
    VERSION  = VERSION
  }
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
