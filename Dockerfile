# devcache: the BuildKit frontend image and the docker CLI plugin binaries.
#
#   docker buildx bake frontend   # the frontend image (FROM scratch)
#   docker buildx bake plugin     # docker-devcache for linux/darwin/windows x amd64/arm64
#
# GO_IMAGE is a build arg so machines without access to a public registry can
# point the builder stage at a Go image of their own (hack/golang-image makes
# one from the machine's Go toolchain).

ARG GO_IMAGE=golang:1.26.8-bookworm

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build-base
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
    GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build
ARG GOPROXY
WORKDIR /src
COPY go.mod go.sum ./
COPY cmd ./cmd
COPY devcontainer ./devcontainer
COPY frontend ./frontend
COPY internal ./internal
COPY llb ./llb
COPY plugin ./plugin

FROM build-base AS frontend-build
ARG TARGETOS TARGETARCH TARGETVARIANT VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -ldflags "-s -w -X github.com/devcache/devcache/internal/version.Version=${VERSION}" \
      -o /out/devcache-frontend ./cmd/devcache-frontend

FROM scratch AS frontend
COPY --from=frontend-build /out/devcache-frontend /bin/devcache-frontend
# The gateway checks requested capabilities against this label: named
# contexts (--build-context), frontend inputs and subrequests (--call).
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
LABEL org.opencontainers.image.title="devcache frontend" \
      org.opencontainers.image.description="BuildKit frontend that builds devcontainer.json into a dev container image"
ENTRYPOINT ["/bin/devcache-frontend"]

FROM build-base AS plugin-build
ARG TARGETOS TARGETARCH TARGETVARIANT VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    ext=""; [ "$TARGETOS" = windows ] && ext=".exe"; \
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -ldflags "-s -w -X github.com/devcache/devcache/internal/version.Version=${VERSION}" \
      -o /out/docker-devcache$ext ./cmd/docker-devcache

FROM scratch AS plugin
COPY --from=plugin-build /out/ /
