import { AUTH } from './auth';
import { CHAT } from './chat';
import { EVENTS } from './events';
import { DEFAULT_INTERNAL_SERVICE_KEY, GUARDS } from './guards';
import { HTTP, LOAD_SHEDDING } from './http';
import { ValueError, type Variable } from './parse';
import { SERVER } from './server';
import { TEMPORAL } from './temporal';
import { UPSTREAMS } from './upstreams';

/**
 * One typed, validated configuration object built from the environment.
 *
 * Every variable is declared once, in the file of its area (name, default, parser, description);
 * `.env.example` and docs/configuration.md are generated from `VARIABLES` (src/tools/config-docs.ts)
 * and a unit test keeps them in sync. A bad value stops the process with one line naming the
 * variable and what is wrong.
 */

export type { CodecKey } from './parse';
export { DEFAULT_INTERNAL_SERVICE_KEY };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** The single list of environment variables. Its order (areas, then within each) is the order of the docs. */
export const VARIABLES = {
  ...SERVER,
  ...AUTH,
  ...EVENTS,
  ...GUARDS,
  ...CHAT,
  ...TEMPORAL,
  ...HTTP,
  ...UPSTREAMS,
  ...LOAD_SHEDDING,
} as const;

type Vars = typeof VARIABLES;
type Parsed = { [K in keyof Vars]: Vars[K] extends Variable<infer T> ? T : never };

export interface Config extends Parsed {
  isProduction: boolean;
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(VARIABLES) as [string, Variable<unknown>][]) {
    const raw = env[name] ?? spec.default;
    try {
      out[name] = spec.parse(raw);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push(`${name} ${err.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const config = out as unknown as Config;
  config.isProduction = config.NODE_ENV === 'production';

  if (config.CODEC_AUTH === 'jwt' && !config.CODEC_JWKS_URL && !config.AUTH_JWKS_URL) {
    problems.push('CODEC_AUTH=jwt needs CODEC_JWKS_URL or AUTH_JWKS_URL to verify operator tokens');
  }
  if (config.isProduction) {
    if (config.INTERNAL_SERVICE_KEY === DEFAULT_INTERNAL_SERVICE_KEY) {
      problems.push('INTERNAL_SERVICE_KEY must be changed from its default in production');
    }
    if (config.TEMPORAL_CODEC_KEYS.length === 0) {
      problems.push('TEMPORAL_CODEC_KEYS must be set in production (payloads would otherwise use the development key)');
    }
    if (config.TEMPORAL_SECRETS_KEYS.length === 0) {
      problems.push(
        'TEMPORAL_SECRETS_KEYS must be set in production (secrets would otherwise use the development key)',
      );
    }
    const codecKeys = new Set(config.TEMPORAL_CODEC_KEYS.map((k) => k.key.toString('base64')));
    if (config.TEMPORAL_SECRETS_KEYS.some((k) => codecKeys.has(k.key.toString('base64')))) {
      problems.push(
        'TEMPORAL_SECRETS_KEYS must differ from TEMPORAL_CODEC_KEYS (the codec endpoint must not open secrets)',
      );
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/**
 * For entrypoints: a bad configuration prints one line and exits 1, rather than a stack trace.
 */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
