# devcache: the BuildKit frontend image and the docker CLI plugin binaries.
#
#   docker buildx bake frontend   # the frontend image (FROM scratch)
#   docker buildx bake plugin     # docker-devcache and devcache for
#                                 # linux/darwin/windows x amd64/arm64
#   docker buildx bake release    # both, named and attested for a release (hack/release)
#
# GO_IMAGE is a build arg so machines without access to a public registry can
# point the builder stage at a Go image of their own (hack/golang-image makes
# one from the machine's Go toolchain).

ARG GO_IMAGE=golang:1.26.8-bookworm
# FRONTEND_BUILD is the stage the frontend image takes its binary from:
# frontend-build compiles the frontend alone; a release (bake target
# frontend-release) takes it from release-build, which compiles it with the
# plugin binaries of the same platform in one go build, so a release compiles
# each platform's packages once.
ARG FRONTEND_BUILD=frontend-build
# PLUGIN_PKGS are the plugin's two binaries, which go to the docker CLI's
# plugin directory side by side: docker-devcache, the plugin the docker CLI
# runs (small: metadata, probe and version), and devcache, the engine it
# hands every other command to.
ARG PLUGIN_PKGS="./cmd/docker-devcache ./cmd/devcache"

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

# release-build compiles a release's binaries of one platform: the plugin's
# two, and on linux the frontend too (see FRONTEND_BUILD).
FROM build-base AS release-build
ARG TARGETOS TARGETARCH TARGETVARIANT VERSION=dev FRONTEND_IMAGE= PLUGIN_PKGS
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    pkgs="$PLUGIN_PKGS"; [ "$TARGETOS" = linux ] && pkgs="$pkgs ./cmd/devcache-frontend"; \
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -ldflags "-s -w -X github.com/devcache/devcache/internal/version.Version=${VERSION} -X github.com/devcache/devcache/internal/version.FrontendImage=${FRONTEND_IMAGE}" \
      -o /out/ $pkgs

FROM ${FRONTEND_BUILD} AS frontend-bin

# frontend-rootfs lays out the frontend image's one layer: the binary and a
# temporary directory (the Compose loader stages files named by
# `extends: {file: …}` on disk, devcontainer/compose; scratch has no /tmp).
FROM build-base AS frontend-rootfs
COPY --from=frontend-bin /out/devcache-frontend /rootfs/bin/devcache-frontend
RUN mkdir -m 1777 /rootfs/tmp

FROM scratch AS frontend
ARG VERSION=dev
COPY --from=frontend-rootfs /rootfs/ /
# The gateway checks requested capabilities against this label: named
# contexts (--build-context), frontend inputs and subrequests (--call).
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
LABEL org.opencontainers.image.title="devcache frontend" \
      org.opencontainers.image.description="BuildKit frontend that builds devcontainer.json into a dev container image" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/devcache/devcache"
ENTRYPOINT ["/bin/devcache-frontend"]

# FRONTEND_IMAGE is the frontend image of the same release, which
# `docker devcache version` names. go build -o DIR/ names the binaries after
# their packages (docker-devcache, devcache; .exe on windows).
FROM build-base AS plugin-build
ARG TARGETOS TARGETARCH TARGETVARIANT VERSION=dev FRONTEND_IMAGE= PLUGIN_PKGS
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -ldflags "-s -w -X github.com/devcache/devcache/internal/version.Version=${VERSION} -X github.com/devcache/devcache/internal/version.FrontendImage=${FRONTEND_IMAGE}" \
      -o /out/ $PLUGIN_PKGS

FROM scratch AS plugin
COPY --from=plugin-build /out/ /

# A release names each binary as docker CLI plugin releases do:
# docker-devcache_v1.2.3_linux_amd64, devcache_v1.2.3_windows_arm64.exe.
FROM build-base AS plugin-release-build
ARG TARGETOS TARGETARCH VERSION=dev
COPY --from=release-build /out/ /out/
RUN ext=""; [ "$TARGETOS" = windows ] && ext=".exe"; \
    mkdir /release && for b in docker-devcache devcache; do \
      cp "/out/$b$ext" "/release/${b}_${VERSION}_${TARGETOS}_${TARGETARCH}$ext" || exit 1; \
    done

FROM scratch AS plugin-release
COPY --from=plugin-release-build /release/ /
