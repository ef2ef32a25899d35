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
# Memory bounds of the Node processes (gateway, worker, migrate), set after npm ci, which must not
# get them. scripts/dev.sh sets the same and bench/run.ts reads this line. By default V8 sizes its heap from the machine (on 24 GB: 64 MB semi-spaces and a
# 4 GB old generation) and grows it under load: the gateway sat at ~205 MB RSS idle and 350-550 MB
# under load with ~55 MB of live data. An 8 MB semi-space keeps the young generation at 16 MB and
# a 512 MB cap makes V8 collect the old one early (growing factor ~1.4 instead of up to 4) while
# leaving room for bursts such as document uploads; two malloc arenas stop glibc from keeping a
# 64 MB arena per GC/compiler thread. Measured: ~145 MB idle, ~190-210 MB peak on the benchmark
# scenarios, at the cost of more scavenges (about 8 % of a core at 4000 req/s instead of 3 %).
# NODE_OPTIONS accepts only these two V8 flags; the worker runs fine with them (~80 MB of heap).
# The API process sets two more V8 flags itself, before its modules load: src/api/v8-flags.ts
# (allocation-site pretenuring off, docs/adr/0012-no-allocation-site-pretenuring.md; Maglev off,
# docs/adr/0015-maglev-off-in-the-api-process.md).
# MALLOC_MMAP_THRESHOLD_=16384: V8's optimising compiler takes its working memory from malloc in
# 8-32 KB segments, 30-50 MB of it at the gateway's warm-up; below glibc's default threshold those
# come from the heap, where glibc keeps them once freed. Mapped on their own, they go back to the
# kernel when the compile ends. Full benchmark runs: peak RSS after the direct scenario 189-192 ->
# 168 MB, after chat 197-201 -> 182 MB, highest of all scenarios 202-203 -> 195 MB (workflow), and
# the gateway's CPU per request unchanged (README, Performance).
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=8" MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=16384
# Code and dependencies stay owned by root and read-only for the process user.
COPY --from=build /app/dist ./dist
# The route table (ROUTES_FILE, relative to the working directory); mount another over it to change routes.
COPY config ./config
USER node
EXPOSE 8002
# Liveness of the API process (the slim image has no curl). The worker has no HTTP server:
# docker-compose.yml disables this check for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8002) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/api/server.js"]
