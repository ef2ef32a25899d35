/**
 * Writes the configuration reference from the one list in src/config/: `.env.example` and
 * `docs/configuration.md` (`npm run config:docs`). A unit test keeps both in sync with the code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VARIABLES } from '../config';

const ROOT = join(__dirname, '..', '..', '..');
const rows = Object.entries(VARIABLES) as [string, { default: string; description: string; secret?: boolean }][];

function envExample(): string {
  const out = [
    '# Every setting of the gateway and its worker, with its default. Copy to .env and adjust.',
    '# Generated from src/config/ by `npm run config:docs`.',
    '',
  ];
  for (const [name, v] of rows) {
    out.push(`# ${v.description}${v.secret ? ' (secret)' : ''}`);
    out.push(`${name}=${v.default}`);
  }
  return out.join('\n') + '\n';
}

function markdown(): string {
  const out = [
    '# Configuration',
    '',
    'Every variable of the gateway and its worker, its default and meaning. Generated from',
    '`src/config/` by `npm run config:docs` (which also writes `.env.example`); a unit test keeps',
    'both in sync with the code. A bad value stops the process at start with one line naming the',
    'variable, e.g. `Invalid configuration: PORT must be an integer (got "eighty")`. With',
    '`NODE_ENV=production` insecure defaults (the development internal key, missing codec or secret',
    'keys) are refused.',
    '',
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
  ];
  for (const [name, v] of rows) {
    const def = v.default === '' ? '_(empty)_' : `\`${v.default}\``;
    out.push(`| \`${name}\` | ${def} | ${v.description.replace(/\|/g, '\\|')}${v.secret ? ' **(secret)**' : ''} |`);
  }
  return out.join('\n') + '\n';
}

writeFileSync(join(ROOT, '.env.example'), envExample());
writeFileSync(join(ROOT, 'docs', 'configuration.md'), markdown());
