# The app image of the wrapper task: your image with envwrap in front.
#
#   docker build -f app.Dockerfile \
#     -t 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.4.2 .
#
# The build context is this directory; replace the FROM line of the second
# stage with your application's image.
FROM ghcr.io/envwrap/envwrap:v0.1.0 AS envwrap

FROM registry.example.com/shop/api:1.4.2
COPY --from=envwrap /envwrap /envwrap
COPY wrapper.envwrap.yaml /etc/envwrap/envwrap.yaml
ENTRYPOINT ["/envwrap", "--config=/etc/envwrap/envwrap.yaml", "--"]
CMD ["/app/server", "--port=8080"]
