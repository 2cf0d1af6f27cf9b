# syntax=docker/dockerfile:1
#
# envwrap's container image: one static binary on distroless, nothing else.
#
#   docker build --build-arg VERSION=v0.1.0 -t ghcr.io/envwrap/envwrap:v0.1.0 .
#
# The image runs as the sidecar agent or the init container of
# deploy/kubernetes and deploy/ecs. To wrap your own program, copy the
# binary into your image instead and put it in front of the command:
#
#   FROM ghcr.io/envwrap/envwrap:v0.1.0 AS envwrap
#
#   FROM your-app-image
#   COPY --from=envwrap /envwrap /envwrap
#   ENTRYPOINT ["/envwrap", "--"]
#   CMD ["/app/server", "--port=8080"]
#
# envwrap is then PID 1: it forwards signals, reaps orphans and exits with
# the child's status, so the image needs no tini and no shell. The binary
# is static, so it runs on any base image, scratch and Alpine included.
#
# deploy/image_test.go parses the go build command below and runs it as
# written, flags and variables included; keep it one RUN instruction.

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src

# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# Cross-compiled on the build platform: no emulation for arm64 images.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/envwrap ./cmd/envwrap

# distroless/static holds CA certificates, /etc/passwd with the nonroot
# user (65532) and tzdata, and no shell. Pin it by digest in production.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/envwrap /envwrap
# Numeric, so that Kubernetes can check runAsNonRoot against it.
USER 65532:65532
ENTRYPOINT ["/envwrap"]
CMD ["--help"]
