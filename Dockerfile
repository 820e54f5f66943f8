# syntax=docker/dockerfile:1
# Multi-stage: a static, CGO-free binary on a distroless base that runs as a non-root user.
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY *.go schema.sql ./
COPY templates/ templates/
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/authsidecar .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authsidecar /authsidecar
USER nonroot:nonroot
EXPOSE 4000
ENV ADDR=:4000
# Metrics, /readyz and /livez on their own port: publish 9464 only to the monitoring network.
ENV METRICS_ADDR=:9464
# Ready means Postgres answers and the schema is applied; liveness alone is `health` (/api/auth/ok).
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["/authsidecar", "health", "--ready"]
ENTRYPOINT ["/authsidecar"]
