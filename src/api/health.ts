/**
 * Dependency probes for /health/ready. Every dependency is reported by name, but none decides
 * readiness: PostgreSQL, Kafka or Temporal being down is down for every replica at once, and
 * taking them all out of rotation would turn a partial outage into a total one. Routes that need
 * the missing dependency answer 503 + Retry-After on their own (gateway-http.md, Operations).
 */
export interface DependencyProbe {
  name: string;
  check(): Promise<void>;
}

export interface ProbeResult {
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}

export async function runProbes(probes: DependencyProbe[], timeoutMs: number): Promise<Record<string, ProbeResult>> {
  const results = await Promise.all(
    probes.map(async (p): Promise<[string, ProbeResult]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          p.check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [p.name, { status: 'up', latency_ms: Math.round(performance.now() - started) }];
      } catch (err) {
        // Only a short, non-sensitive reason: probes talk to infrastructure, not to user data.
        const error = err instanceof Error ? err.message.slice(0, 200) : 'unreachable';
        return [p.name, { status: 'down', latency_ms: Math.round(performance.now() - started), error }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(results);
}

export type MigrationState = 'applied' | 'pending' | 'unknown';

export interface InstanceConditions {
  started: boolean;
  migrations: MigrationState;
  draining: boolean;
  overloaded: boolean;
}

/** Event-loop lag above which this instance counts as overloaded (a busy 2-core replica stays near 10 ms). */
export const OVERLOADED_EVENT_LOOP_LAG_MS = 500;
const LAG_SAMPLE_MS = 200;

/**
 * What only this instance can get wrong, and so what readiness is made of: it has started, this
 * build's migrations are in the database, it is not draining, and its event loop keeps up.
 */
export class InstanceReadiness {
  started = false;
  draining = false;
  /** Smoothed lateness of a timer that should fire every LAG_SAMPLE_MS: how far behind the loop runs. */
  lagMs = 0;
  private migrations: MigrationState = 'unknown';
  private readonly sampler: NodeJS.Timeout;

  constructor(
    /** The migrations of this build the database lacks (throws while the database is away). */
    private readonly pendingMigrations: () => Promise<string[]>,
  ) {
    let last = performance.now();
    this.sampler = setInterval(() => {
      const now = performance.now();
      this.lagMs = 0.7 * this.lagMs + 0.3 * Math.max(0, now - last - LAG_SAMPLE_MS);
      last = now;
    }, LAG_SAMPLE_MS).unref();
  }

  async conditions(timeoutMs: number): Promise<InstanceConditions> {
    // Once applied, migrations cannot un-apply: a database outage later does not make this unknown.
    if (this.migrations !== 'applied') {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)));
      const pending = await Promise.race([this.pendingMigrations().catch(() => undefined), timeout]);
      clearTimeout(timer);
      this.migrations = pending === undefined ? 'unknown' : pending.length ? 'pending' : 'applied';
    }
    return {
      started: this.started,
      migrations: this.migrations,
      draining: this.draining,
      overloaded: this.lagMs > OVERLOADED_EVENT_LOOP_LAG_MS,
    };
  }

  static isReady(c: InstanceConditions): boolean {
    return c.started && c.migrations === 'applied' && !c.draining && !c.overloaded;
  }

  close(): void {
    clearInterval(this.sampler);
  }
}
