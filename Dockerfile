# Build a static kring binary, then ship it alone on a distroless base.
# go.mod needs Go 1.26.7 or newer.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kring ./cmd/kring \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kring /usr/local/bin/kring
# The embedded store lives here when KRING_STORE is not a Redis URL.
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
# Keep the data outside the container: docker run -v kring-data:/data …
VOLUME /data
USER nonroot:nonroot
ENV KRING_STORE=bolt:/data/kring.db KRING_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kring"]
CMD ["serve"]
