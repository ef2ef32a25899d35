/**
 * The production image holds no upstream fake: the Dockerfile copies nothing of fakes/ into any
 * stage, and the product build (tsconfig.build.json, what the image's build stage runs) compiles
 * no file of fakes/, not even through an import from src/.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const FAKES = 'fakes';

interface Copy {
  instruction: string;
  /** `--from=<stage>`: the sources are paths inside that stage, not in the build context. */
  from?: string;
  sources: string[];
}

/** The COPY and ADD instructions of a Dockerfile (continuation lines joined, comments dropped). */
function copyInstructions(dockerfile: string): Copy[] {
  const instructions = dockerfile
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n');
  const copies: Copy[] = [];
  for (const instruction of instructions) {
    const match = /^\s*(?:COPY|ADD)\s+(.*)$/i.exec(instruction);
    if (!match) continue;
    const words = match[1]!.trim().split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const rest = words.filter((w) => !w.startsWith('--')).join(' ');
    const paths = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(' ');
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    copies.push({ instruction: instruction.trim(), from, sources: paths.slice(0, -1) });
  }
  return copies;
}

/** Docker's `*` and `?` within one path segment. */
function segmentMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${regex}$`).test(name);
}

/** Whether the build context's `.dockerignore` leaves fakes/ out. */
function contextIgnoresFakes(dockerignore: string): boolean {
  return dockerignore
    .split('\n')
    .map((line) => line.trim().replace(/^\/+/, '').replace(/\/+$/, ''))
    .some((pattern) => pattern !== '' && !pattern.startsWith('#') && segmentMatches(pattern, FAKES));
}

/** Whether one COPY/ADD source can bring a file of fakes/ into the image. */
function reachesFakes(copy: Copy, source: string, ignoresFakes: boolean): boolean {
  const segments = source.split('/').filter((s) => s !== '' && s !== '.');
  // Another stage's filesystem: any fakes directory in the path.
  if (copy.from !== undefined) return segments.some((s) => segmentMatches(s, FAKES));
  // The whole context (`.`) holds fakes/ unless .dockerignore leaves it out.
  if (segments.length === 0) return !ignoresFakes;
  return segmentMatches(segments[0]!, FAKES);
}

function copiesOfFakes(dockerfile: string, dockerignore: string): string[] {
  const ignoresFakes = contextIgnoresFakes(dockerignore);
  return copyInstructions(dockerfile)
    .filter((copy) => copy.sources.some((source) => reachesFakes(copy, source, ignoresFakes)))
    .map((copy) => copy.instruction);
}

/** Every file the product build compiles: the program tsc builds from tsconfig.build.json. */
function productBuildFiles(): string[] {
  const configPath = join(ROOT, 'tsconfig.build.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('tsconfig.build.json could not be read');
  // Parsing and module resolution only (no type-check): imports from src/ are followed as tsc does.
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  return program
    .getSourceFiles()
    .map((file) => relative(ROOT, file.fileName).split('\\').join('/'))
    .filter((file) => !file.startsWith('node_modules/') && !file.startsWith('..'));
}

describe('production image contents', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');

  it('copies nothing of fakes/ into any stage of the Dockerfile', () => {
    expect(copyInstructions(dockerfile).map((c) => c.instruction)).toContain('COPY src ./src');
    expect(copiesOfFakes(dockerfile, dockerignore)).toEqual([]);
  });

  it('leaves fakes/ out of the Docker build context', () => {
    expect(contextIgnoresFakes(dockerignore)).toBe(true);
  });

  it('recognises every way a COPY could bring a fake in', () => {
    const reached = [
      'COPY fakes ./fakes',
      'COPY ./fakes/auth /app/fakes/auth',
      'ADD fak* /app/',
      'COPY ["fakes/chat", "./chat"]',
      'COPY --chown=node:node src fakes ./',
      'COPY --from=build /app/dist/fakes ./dist/fakes',
      'COPY \\\n  fakes \\\n  ./fakes',
    ];
    for (const line of reached) expect(copiesOfFakes(`FROM base\n${line}\n`, '')).toHaveLength(1);
    expect(copiesOfFakes('COPY . .\n', '')).toHaveLength(1);
    expect(copiesOfFakes('COPY . .\n', 'node_modules\n/fakes/\n')).toEqual([]);
    expect(copiesOfFakes('COPY src ./src\nCOPY --from=build /app/dist ./dist\n# COPY fakes ./fakes\n', '')).toEqual([]);
  });

  it('compiles no file of fakes/ in the product build (tsconfig.build.json)', () => {
    const files = productBuildFiles();
    expect(files).toEqual(expect.arrayContaining(['src/api/server.ts', 'src/workers/main.ts']));
    expect(files.filter((file) => file === FAKES || file.startsWith(`${FAKES}/`))).toEqual([]);
  }, 120_000);
});
