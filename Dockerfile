# syntax=docker/dockerfile:1
#
# Fingertip: one image, every shape. The entrypoint is the `fingertip` binary, so the container's
# command picks the shape: none (all-in-one, applies migrations, SQLite in /data by default),
# `migrate`, `serve`, `work` or `audit verify`. See docker-compose.yml for the distributed shape.
# The WeChat/WeCom mock of the demo is a separate, smaller image (target `mock`); the production
# image does not contain it.
#
#   docker build -t fingertip .
#   docker run --rm -p 8080:8080 -v fingertip-data:/data fingertip          # all-in-one, SQLite
#   docker run --rm fingertip --help
#   docker build --target mock -t fingertip-mock .                          # the demo's mock

# ---- build -------------------------------------------------------------------------------------
# The workspace declares rust-version 1.94 and edition 2024.
FROM rust:1.95-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0

COPY Cargo.toml Cargo.lock ./
COPY .cargo/ .cargo/
COPY src/ src/
COPY platform/ platform/
COPY core/ core/
COPY wechat/ wechat/
COPY wechat-mock/ wechat-mock/
COPY api/ api/
COPY workers/ workers/
COPY migrations/ migrations/
COPY bench/ bench/

# BuildKit cache mounts keep the crate registry and target/ between builds; the binary is copied
# out of the cached target/ because a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p fingertip \
 && install -D -m 0755 target/release/fingertip /out/fingertip

# ---- the WeChat/WeCom mock, for `docker compose --profile demo` only ---------------------------
FROM build AS build-mock
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p fingertip-wechat-mock \
 && install -D -m 0755 target/release/fingertip-mock-wechat /out/fingertip-mock-wechat

FROM debian:bookworm-slim AS mock
COPY --from=build-mock /out/fingertip-mock-wechat /usr/local/bin/fingertip-mock-wechat
USER 10001:10001
EXPOSE 9100
ENTRYPOINT ["fingertip-mock-wechat"]

# ---- runtime (the default target) --------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# The binary links only libc, libm and libgcc_s (TLS is rustls + ring, SQLite is bundled).
# ca-certificates: outgoing HTTPS to the WeChat and WeCom APIs verifies against the system roots.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 fingertip \
 && useradd --system --uid 10001 --gid fingertip --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin fingertip \
 && mkdir -p /data \
 && chown fingertip:fingertip /data

COPY --from=build /out/fingertip /usr/local/bin/fingertip

USER fingertip:fingertip
# The working directory holds the default SQLite file (fingertip.db) and is where a .env is read.
WORKDIR /data

ENV FINGERTIP_BIND=0.0.0.0:8080
EXPOSE 8080

# No HEALTHCHECK here: the image has no curl. docker-compose.yml probes GET /readyz with bash's
# /dev/tcp instead (bash is part of every Debian image).
ENTRYPOINT ["fingertip"]
