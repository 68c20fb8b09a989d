# syntax=docker/dockerfile:1
# oncall-assistant in one image: the Rust server serving the web UI and the API on
# port 8000. Build: docker build -t oncall-assistant .   (or docker compose up -d)

# 1. The web UI (frontend/dist).
FROM node:22-bookworm-slim AS ui
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
COPY oncall-server/openapi.json /src/oncall-server/openapi.json
RUN npm run check:api && npm run build

# 2. The server and the CLI.
FROM rust:1-bookworm AS server
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Build settings of the bundled SQLite (see .cargo/config.toml).
COPY .cargo/ .cargo/
COPY oncall-core/ oncall-core/
COPY oncall-server/ oncall-server/
COPY oncall-cli/ oncall-cli/
COPY oncall-py/ oncall-py/
COPY migrations/ migrations/
RUN cargo build --release --locked -p oncall-server -p oncall-cli \
 && strip target/release/oncall-server target/release/oncall

# 3. Runtime: slim Debian, non-root, data under a volume.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/oncall --create-home oncall \
 && mkdir -p /var/lib/oncall/data \
 && chown -R oncall:oncall /var/lib/oncall
COPY --from=server /src/target/release/oncall-server /src/target/release/oncall /usr/local/bin/
COPY --from=ui /src/frontend/dist /usr/share/oncall/web
ENV ONCALL_ADDR=0.0.0.0:8000 \
    ONCALL_WEB_DIR=/usr/share/oncall/web \
    DATABASE_URL=sqlite:///var/lib/oncall/data/oncall.db
USER oncall
WORKDIR /var/lib/oncall
VOLUME ["/var/lib/oncall/data"]
EXPOSE 8000
# SIGTERM starts the graceful stop (ONCALL_STOP_GRACE_SECONDS, default 20 s): give
# `docker stop -t` / a compose stop_grace_period / Kubernetes'
# terminationGracePeriodSeconds a few seconds more than that.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["oncall-server"]
