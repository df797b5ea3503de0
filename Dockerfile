# Förankra: one image, one binary and the web app it serves.
#
#   docker build -t forankra .
#   docker run -e DATABASE_URL=postgres://… -e FORANKRA_JWT_SECRET=… -e FORANKRA_AUDIT_KEY=… -p 8080:8080 forankra
#
# Three stages: the web app (Node 20), the server (Rust), and a slim runtime that holds
# only the binary, the built web app and CA certificates. The first two are independent,
# so BuildKit builds them in parallel. Every stage copies the dependency manifests before
# the sources, so a change to the code alone reuses the layers with the installed npm
# packages and the compiled Rust dependencies. No BuildKit-only syntax is used: the
# classic builder works too.

# ---- web: npm ci && npm run build in web/ -> /src/web/dist -----------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
# Playwright is a dev dependency for the end-to-end tests; the image needs no browsers.
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
RUN npm run build && test -f dist/index.html

# ---- server: cargo build --release --locked --bin forankra ------------------------------
FROM rust:1.95-bookworm AS server
WORKDIR /src
# 1. Dependencies only. The workspace manifests and the lock file, with empty sources
#    in place of the server crate's (the tests and bench members are never built here;
#    cargo only needs their manifests to load the workspace). This layer is rebuilt only
#    when a manifest or Cargo.lock changes.
COPY Cargo.toml Cargo.lock ./
COPY server/Cargo.toml server/build.rs server/
COPY tests/Cargo.toml tests/
COPY bench/Cargo.toml bench/
RUN mkdir -p server/src \
    && echo 'fn main() {}' > server/src/main.rs \
    && touch server/src/lib.rs \
    && cargo build --release --locked --bin forankra \
    && rm -rf server/src
# 2. The server itself. `sqlx::migrate!` embeds migrations/ at compile time. COPY keeps
#    the files' own modification times, which may be older than the stub build above:
#    touch the crate roots so cargo rebuilds the crate instead of keeping the stub.
COPY migrations/ migrations/
COPY server/ server/
RUN touch server/src/main.rs server/src/lib.rs \
    && cargo build --release --locked --bin forankra \
    && cp target/release/forankra /usr/local/bin/forankra \
    && /usr/local/bin/forankra --version

# ---- runtime ---------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates for TLS to a managed PostgreSQL (sslmode=require / verify-full).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/forankra --create-home \
       --shell /usr/sbin/nologin forankra
COPY --from=server /usr/local/bin/forankra /usr/local/bin/forankra
COPY --from=web /src/web/dist /usr/share/forankra/web
USER forankra
# The working directory is where a SQLite database (`forankra.db`, the default when no
# DATABASE_URL is given) lives, with the audit key made beside it at the first start
# (`forankra.db.audit-key`, unless FORANKRA_AUDIT_KEY is given): mount a volume here to
# keep them, and back the key up apart from the database (docs/OPERATIONS.md).
WORKDIR /var/lib/forankra
ENV FORANKRA_LISTEN=0.0.0.0:8080 \
    FORANKRA_WEB_DIR=/usr/share/forankra/web
EXPOSE 8080
# Health check without curl: the slim image has no HTTP client, and installing curl
# would add it and its libraries (and their CVEs) to every image for this one purpose.
# bash, which the base image has anyway, can open a TCP socket through /dev/tcp: send
# `GET /healthz` to the port of FORANKRA_LISTEN and require status 200, which the server
# answers only while it reaches its database (503 otherwise).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${FORANKRA_LISTEN##*:}\" && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]
# Exec form: forankra is PID 1 and receives SIGTERM from `docker stop`, closes its
# sockets with 1012 (clients reconnect), stores and compacts every open document.
ENTRYPOINT ["forankra"]
CMD ["serve"]
