import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './params';

/** Where scripts/stack.sh keeps the local stack's state, logs and pid files. */
export const STACK_DIR = process.env.GATEWAY_STACK_DIR ?? join(ROOT, '.stack');

/** The command line of a local-stack service (scripts/stack.sh), '' when not visible. */
export function stackCmdline(service: string): string {
  try {
    return readFileSync(`/proc/${readFileSync(join(STACK_DIR, `${service}/pid`), 'utf8').trim()}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
