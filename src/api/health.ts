/**
 * Dependency probes for /health/ready. Critical probes (PostgreSQL, Kafka, Temporal) decide the
 * status code; informational ones (upstream services) are reported but never take a replica out
 * of rotation, because every replica would fail them at once.
 */
export interface DependencyProbe {
  name: string;
  critical: boolean;
  check(): Promise<void>;
}

export interface ProbeResult {
  status: 'up' | 'down';
  critical: boolean;
  latency_ms: number;
  error?: string;
}

export async function runProbes(
  probes: DependencyProbe[],
  timeoutMs: number,
): Promise<{ ready: boolean; checks: Record<string, ProbeResult> }> {
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
        return [p.name, { status: 'up', critical: p.critical, latency_ms: Math.round(performance.now() - started) }];
      } catch (err) {
        // Only a short, non-sensitive reason: probes talk to infrastructure, not to user data.
        const error = err instanceof Error ? err.message.slice(0, 200) : 'unreachable';
        return [
          p.name,
          { status: 'down', critical: p.critical, latency_ms: Math.round(performance.now() - started), error },
        ];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checks = Object.fromEntries(results);
  const ready = results.every(([, r]) => r.status === 'up' || !r.critical);
  return { ready, checks };
}
