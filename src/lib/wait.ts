export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the promise's value, or with `undefined` after `ms` (the timer never outlives it). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Delay before retry `attempt` (1, 2, …): 100 ms doubling, with "equal jitter" (half fixed, half random). */
export function jitteredBackoff(attempt: number): number {
  const base = 100 * 2 ** (attempt - 1);
  return base / 2 + Math.random() * base;
}
