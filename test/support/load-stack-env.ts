import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Each jest worker reads the connection settings the local stack wrote (.stack/stack.env).
 * Values already in the environment win, so an external stack can be used instead.
 */
const file = process.env.GATEWAY_STACK_ENV_FILE ?? join(__dirname, '..', '..', '.stack', 'stack.env');
try {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
  }
} catch {
  // no local stack: tests that need one will fail with a connection error naming the service
}
