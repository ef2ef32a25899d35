import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Markdown } from './markdown';
import { ROOT } from './params';
import { stackCmdline } from './stack';

/** The installed version of a package of the repository. */
export const packageVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The versions table of a report: node, `extra` (the harness's own rows), the stack's Kafka and
 * Temporal CLI, the given packages, and the CPU.
 */
export function versions(packages: string[], extra: Record<string, string> = {}): Record<string, string> {
  let temporalCli = '?';
  try {
    temporalCli = execFileSync(stackCmdline('temporal').split('\0')[0]!, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    /* not visible */
  }
  return {
    node: process.version,
    ...extra,
    kafka: /kafka-(\d+\.\d+\.\d+)/.exec(stackCmdline('kafka'))?.[1] ?? '?',
    'temporal CLI': temporalCli.replace(/\s+/g, ' '),
    ...Object.fromEntries(packages.map((p) => [p, packageVersion(p)])),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  };
}

/** A versions table as Markdown rows. */
export function versionsTable(md: Markdown, rows: Record<string, string>): void {
  md.table<[string, string]>(
    [
      ['version', ([k]) => k],
      ['', ([, v]) => v],
    ],
    Object.entries(rows),
  );
}
