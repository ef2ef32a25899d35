import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { errorMessage } from '../lib/error-message';
import { bodyText } from '../upstreams/upstream-errors';
import { UpstreamPool } from '../upstreams/upstream-pool';

const FETCH_TIMEOUT_MS = 5_000;
const MAX_AGE_MS = 10 * 60_000;
/** A key set is a few KB; 1 MiB leaves room for many keys with certificate chains (`x5c`). */
const MAX_KEY_SET_BYTES = 1024 * 1024;

/** The issuer cannot be asked for its keys: 503, never 401 (a 401 would sign every front end out). */
export class IssuerKeysUnavailable extends HttpError {
  constructor() {
    super('upstream_unavailable', 'Token issuer keys are unavailable; retry later', {
      headers: { 'retry-after': '5' },
    });
  }
}

/**
 * The issuer's JWKS for `jwtVerify`. Keeps the last good set: an issuer outage never drops keys the
 * gateway already knows (a stale set is refreshed in the background). An unknown `kid` refetches at
 * most once per `refreshFloorMs`; if the issuer cannot be reached, that token gets 503 rather than
 * a 401 that would be wrong once the issuer is back.
 */
export class IssuerKeys {
  /**
   * The gateway's own undici pool, not Node's global `fetch`: `fetch` loads Node's bundled second
   * copy of undici (its source, WebAssembly parser and web streams), 4–5 MB of RSS for one small
   * GET every ten minutes (docs/performance.md, Memory). A JWKS URL must answer itself: redirects
   * are not followed.
   */
  private readonly pool: UpstreamPool;
  private readonly path: string;
  private local: JWTVerifyGetKey | undefined;
  private fetchedAt = 0;
  private lastAttempt = 0;
  private lastAttemptFailed = false;
  private inflight: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly refreshFloorMs: number,
    private readonly logger: Logger,
  ) {
    const parsed = new URL(url);
    this.path = parsed.pathname + parsed.search;
    this.pool = new UpstreamPool(
      {
        name: 'jwks',
        title: 'Token issuer',
        url: parsed.origin,
        agent: { connections: 1, keepAliveTimeout: 4_000 },
        breakerThreshold: 5,
        breakerCooldownMs: 5_000,
        maxAnswerBytes: MAX_KEY_SET_BYTES,
      },
      logger,
    );
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.local) await this.refresh();
    else if (Date.now() - this.fetchedAt > MAX_AGE_MS) void this.refresh().catch(() => undefined);
    try {
      return await this.local!(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      // A new kid (key rotation) or a forged one: ask the issuer again, within the floor.
      if (Date.now() - this.lastAttempt >= this.refreshFloorMs) await this.refresh();
      if (this.lastAttemptFailed) throw new IssuerKeysUnavailable();
      return this.local!(header, token);
    }
  };

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttempt = Date.now();
    try {
      const res = await this.pool.send({
        method: 'GET',
        path: this.path,
        headers: { accept: 'application/json' },
        timeoutMs: FETCH_TIMEOUT_MS,
      });
      if (res.status !== 200) throw new Error(`JWKS answered ${res.status}`);
      const body = JSON.parse(bodyText(res.body)) as JSONWebKeySet;
      if (!body || !Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
      this.local = createLocalJWKSet(body);
      this.fetchedAt = Date.now();
      this.lastAttemptFailed = false;
    } catch (err) {
      this.lastAttemptFailed = true;
      this.logger.warn({ error: errorMessage(err) }, 'JWKS unavailable');
      if (!this.local) throw new IssuerKeysUnavailable();
      // With a last good set: known kids keep verifying; the caller decides for unknown ones.
    }
  }
}
