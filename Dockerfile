# syntax=docker/dockerfile:1
# Streamgate server image.
#   docker build -t streamgate .
#   docker compose up            (Redis with AOF + the server; see docker-compose.yml)
# The build and run steps below are also run without Docker by
# scripts/verify-docker-build.sh, and tests/deploy.test.ts checks this file's
# contract (ports, env names, user, paths) against the code. Keep all three in step.

# Node 24 LTS (supported until 2028-04-30). Both stages use the same major, so node_modules is
# installed by the Node that runs it; tests/deploy.test.ts checks both are one supported even major.
# ---- build: all dependencies, compile, then drop the dev dependencies ----
FROM node:24-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY server ./server
COPY client-sdk ./client-sdk
COPY bin ./bin
RUN npm run build
RUN npm prune --omit=dev

# ---- runtime: production dependencies and compiled JavaScript only ----
FROM node:24-slim AS runtime
# tini as PID 1: forwards SIGTERM to node (which drains gracefully) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /app/bin/streamgate.js /usr/local/bin/streamgate
# All interfaces, so API keys (STREAMGATE_AUTH=keys): STREAMGATE_AUTH=none refuses a non-loopback address.
# Create keys with `streamgate keys create` (it talks to REDIS_URL directly); set STREAMGATE_ADMIN_KEY
# to open the Admin gRPC service. REDIS_URL must be set: the image has no redis-server.
ENV NODE_ENV=production \
    STREAMGATE_LISTEN=0.0.0.0:50051 \
    STREAMGATE_METRICS_LISTEN=0.0.0.0:9464 \
    STREAMGATE_AUTH=keys
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The CLI (`streamgate keys create ...`, `streamgate health`, ...) runs the compiled code in dist/.
COPY --from=build /app/bin ./bin
# Files stay root-owned (read-only to the server); the process runs as the image's unprivileged "node" user.
USER node
# gRPC API, Prometheus metrics (/metrics).
EXPOSE 50051 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "dist/server/observability/healthProbe.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server/main.js"]
