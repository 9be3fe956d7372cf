# syntax=docker/dockerfile:1
# Gatehouse: build with the official Rust image, run on slim Debian as a non-root user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# josekit links the system OpenSSL (the rust image usually has these already).
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# Cache mounts keep the registry and compiled dependencies between builds; the binary
# is copied out because the target cache is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin gatehouse \
 && cp target/release/gatehouse /gatehouse

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/gatehouse --create-home gatehouse
COPY --from=build /gatehouse /usr/local/bin/gatehouse
USER gatehouse
WORKDIR /var/lib/gatehouse
# The data directory: a SQLite database and its key file live here unless configured
# otherwise; mount a volume so they outlive the container.
VOLUME /var/lib/gatehouse
# All interfaces inside the container; publish the port to choose who reaches it.
ENV GATEHOUSE_LISTEN=0.0.0.0:8080
EXPOSE 8080
# The slim image has no curl: the binary probes its own /healthz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["gatehouse", "healthcheck"]
ENTRYPOINT ["gatehouse"]
CMD ["serve"]
