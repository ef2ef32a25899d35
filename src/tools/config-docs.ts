/**
 * Prints the configuration as .env.example (default) or as the README's markdown table (--table),
 * from the one list in src/config.ts. `npm run config:docs` rewrites .env.example; `-- --table` prints the README table.
 */
import { VARIABLES } from '../config';

const rows = Object.entries(VARIABLES) as [string, { default: string; description: string; secret?: boolean }][];

if (process.argv.includes('--table')) {
  const out = ['| Variable | Default | Meaning |', '|---|---|---|'];
  for (const [name, v] of rows) {
    const def = v.default === '' ? '_(empty)_' : `\`${v.default}\``;
    out.push(`| \`${name}\` | ${def} | ${v.description.replace(/\|/g, '\\|')}${v.secret ? ' **(secret)**' : ''} |`);
  }
  console.log(out.join('\n'));
} else {
  const out = [
    '# Every setting of the gateway and its worker, with its default. Copy to .env and adjust.',
    '# Generated from src/config.ts by `npm run config:docs`.',
    '',
  ];
  for (const [name, v] of rows) {
    out.push(`# ${v.description}${v.secret ? ' (secret)' : ''}`);
    out.push(`${name}=${v.default}`);
  }
  console.log(out.join('\n'));
}
