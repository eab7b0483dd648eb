# Static binaries on a minimal base. Secrets come in at run time through the
# environment or *_FILE variables; nothing secret is baked into the image.
#   docker build --build-arg VERSION=1.2.0 --build-arg COMMIT=$(git rev-parse HEAD) -t billing-warehouse .
FROM golang:1.26-bookworm AS build
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X github.com/billing-warehouse/billing-warehouse/internal/version.version=${VERSION} -X github.com/billing-warehouse/billing-warehouse/internal/version.commit=${COMMIT}" \
      -o /out/ ./cmd/...

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="billing-warehouse" \
      org.opencontainers.image.description="Copies cloud billing APIs into PostgreSQL, with versioned SQL reports" \
      org.opencontainers.image.source="https://github.com/billing-warehouse/billing-warehouse" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/ /usr/local/bin/
USER nonroot:nonroot
# ingest serve's /healthz, /readyz and /metrics (INGEST_LISTEN=0.0.0.0:9090)
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/ingest"]
CMD ["status"]
