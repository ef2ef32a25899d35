/**
 * The two parts of undici the gateway uses (Agent, whose `dispatch` API src/upstreams/pool-call.ts
 * drives, and errors), loaded without the package's index. The index loads all of undici (fetch, WebSocket, cache, mock, cookies), and its
 * cookies module reads `globalThis.Headers`, which makes Node load its own bundled copy of undici
 * too. Measured with Fastify loaded: +9.2 MB RSS and +4.1 MB of V8 heap for the index, +1.3 MB and
 * +0.8 MB for these files (README, Performance). They are undici's own CommonJS modules (the
 * package has no "exports" map); the version is pinned in package.json, and
 * test/unit/auth-service-client.test.ts and test/unit/undici-lean.test.ts exercise each of them.
 */
import type * as Undici from 'undici';

/* eslint-disable @typescript-eslint/no-require-imports */
export const Agent = require('undici/lib/dispatcher/agent') as typeof Undici.Agent;
export const errors = require('undici/lib/core/errors') as typeof Undici.errors;
/* eslint-enable @typescript-eslint/no-require-imports */
