import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds: waits and deadlines never follow a wall-clock step. */
export const monotonicNow = (): number => performance.now();

export function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 1000);
}
