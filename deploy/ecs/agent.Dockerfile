# The sidecar image of the sidecar task: envwrap with its manifest and
# template baked in, since a task definition cannot carry files.
#
#   docker build -f agent.Dockerfile \
#     -t 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/envwrap-agent:0.1.0 .
#
# The build context is this directory.

# distroless has no shell to mkdir with: make the mount point here.
FROM busybox:1.37 AS mountpoint
RUN mkdir -p /stage/shared && chmod 0700 /stage/shared

FROM ghcr.io/envwrap/envwrap:v0.1.0
COPY agent.envwrap.yaml /etc/envwrap/envwrap.yaml
COPY app.conf.tmpl /etc/envwrap/app.conf.tmpl

# Fargate mounts a task's bind-mount volume owned by root, which a non-root
# envwrap cannot write to. Declaring the mount path as a VOLUME of an image
# directory owned by the runtime UID makes the volume take that ownership
# (aws/containers-roadmap#863, #938). Check it once on your platform
# version: `ls -ld /shared` in the app container should show 65532.
COPY --from=mountpoint --chown=65532:65532 /stage/ /
VOLUME ["/shared"]
