# One image for the three processes of the gateway:
#   API (default):  node dist/src/api/server.js
#   Temporal worker: node dist/src/workers/main.js
#   DB migrations:   node dist/src/db/migrate.js
#
# Debian (glibc), not Alpine: Temporal's native core-bridge and the SWC binary the worker uses to
# bundle workflows at start-up ship glibc builds.

FROM node:24-bookworm-slim AS base
WORKDIR /app

# ---------------------------------------------------------------- all dependencies (for the build)
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# ---------------------------------------------------------------- TypeScript -> dist/src, dist/migrations
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# ---------------------------------------------------------------- runtime: production dependencies + dist
FROM base AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8002
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Code and dependencies stay owned by root and read-only for the process user.
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8002
# Liveness of the API process (the slim image has no curl). The worker has no HTTP server:
# docker-compose.yml disables this check for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8002) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/api/server.js"]
