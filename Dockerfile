# chidao container image.
#
#   docker build -t chidao .
#   docker run --rm -p 8080:8080 -v chidao-data:/app/data chidao        # SQLite in /app/data
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://user:pass@host:5432/chidao chidao
#
# The default command `chidao serve` applies migrations, loads /app/seeds into an empty
# database, and serves GraphQL on :8080 (/graphql, /healthz, /readyz).
# There is no HEALTHCHECK here because the slim image has no curl: docker-compose.yml probes
# /readyz with bash's /dev/tcp instead.

# ---- build -----------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p chidao \
 && cp target/release/chidao /usr/local/bin/chidao

# ---- runtime ---------------------------------------------------------------------------
FROM debian:bookworm-slim
# TLS is rustls and SQLite is compiled in: only the CA certificates are needed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 chidao \
 && useradd --system --uid 10001 --gid chidao --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin chidao \
 && mkdir -p /app/data \
 && chown chidao:chidao /app/data

WORKDIR /app
COPY --from=builder /usr/local/bin/chidao /usr/local/bin/chidao
COPY seeds/ /app/seeds/

ENV CHIDAO_BIND=0.0.0.0:8080 \
    CHIDAO_SEEDS=/app/seeds \
    CHIDAO_LOG_FORMAT=json \
    DATABASE_URL=sqlite:///app/data/chidao.db?mode=rwc

EXPOSE 8080
USER chidao
ENTRYPOINT ["chidao"]
CMD ["serve"]
