/**
 * Replaces what `request` (a kafkajs module) exports, in Node's module cache, with `exports`. Only
 * modules loaded afterwards see the replacement, so `capturedBy`, a module that keeps what it
 * required, must not be loaded yet: loading a fix late throws instead of silently doing nothing.
 */
export function replaceModule(request: string, capturedBy: string, exports: unknown): void {
  const resolved = require.resolve(request);
  if (require.cache[require.resolve(capturedBy)])
    throw new Error(`a kafkajs fix loaded after ${capturedBy}: import src/kafka/fixes before kafkajs`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(resolved);
  require.cache[resolved]!.exports = exports;
}
