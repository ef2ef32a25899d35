/**
 * Static checks of the container wiring: docker-compose.yml and the Dockerfile are read as files
 * (no Docker engine needed) and compared with src/config/ and the Temporal conventions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHAT_MAX_MESSAGE_BYTES } from '../../src/chat/limits';
import { DEFAULT_INTERNAL_SERVICE_KEY, VARIABLES, loadConfig } from '../../src/config';

const ROOT = join(__dirname, '..', '..');

// ---------------------------------------------------------------- docker-compose.yml model

type EnvValue = string | number | boolean | null;
interface LongPort {
  target: number | string;
  published?: number | string;
  host_ip?: string;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, EnvValue> | string[];
  ports?: (string | number | LongPort)[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}
interface ComposeFile {
  services?: Record<string, Service>;
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as ComposeFile;

const SERVICES = [
  'postgres',
  'kafka',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'migrate',
  'gateway',
  'worker',
] as const;
const APP_SERVICES = ['gateway', 'worker', 'migrate'] as const;
/** Contract gateway-http.md, "Temporal conventions". */
const SEARCH_ATTRIBUTES = ['GatewayOperation', 'GatewayUserId', 'GatewayOrgId', 'GatewayRequestId'];
/** The variables the shared gateway/worker/migrate environment must set explicitly. */
const REQUIRED_APP_VARIABLES = [
  'NODE_ENV',
  'HOST',
  'PORT',
  'LOG_LEVEL',
  'DATABASE_URL',
  'AUTH_SERVICE_URL',
  'AUTH_JWKS_URL',
  'KAFKA_BOOTSTRAP_SERVERS',
  'CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS',
  'INTERNAL_SERVICE_KEY',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_CODEC_KEYS',
  'TEMPORAL_SECRETS_KEYS',
  'TEMPORAL_UI_ORIGINS',
  'CORS_ORIGINS',
];
/** Secrets NODE_ENV=production refuses to default: compose must demand them (`${NAME:?message}`). */
const REQUIRED_SECRETS = ['INTERNAL_SERVICE_KEY', 'TEMPORAL_CODEC_KEYS', 'TEMPORAL_SECRETS_KEYS'];

/**
 * `${NAME}` interpolations of the compose file whose NAME is not a VARIABLES key of src/config/,
 * each with the reason it may exist. Empty: every knob an operator turns is a gateway variable,
 * and the infrastructure (ports, database roles, image tags) is fixed in the file.
 */
const NON_CONFIG_INTERPOLATIONS: Record<string, string> = {};

function service(name: string): Service {
  const svc = compose.services?.[name];
  if (!svc) throw new Error(`docker-compose.yml has no service "${name}"`);
  return svc;
}

function envOf(svc: Service): Record<string, string> {
  const out: Record<string, string> = {};
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const idx = entry.indexOf('=');
      if (idx < 0) out[entry] = '';
      else out[entry.slice(0, idx)] = entry.slice(idx + 1);
    }
  } else {
    for (const [k, v] of Object.entries(env)) out[k] = v === null ? '' : String(v);
  }
  return out;
}

interface PortMapping {
  hostIp?: string;
  published?: number;
  target: number;
}

function portsOf(svc: Service): PortMapping[] {
  return (svc.ports ?? []).map((p): PortMapping => {
    if (typeof p === 'object') {
      return {
        hostIp: p.host_ip,
        published: p.published === undefined ? undefined : Number(p.published),
        target: Number(p.target),
      };
    }
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.pop());
    const published = parts.length ? Number(parts.pop()) : undefined;
    return { hostIp: parts.length ? parts.join(':') : undefined, published, target };
  });
}

function dependsOn(svc: Service): Record<string, string> {
  const deps = svc.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v.condition ?? 'service_started']));
}

function words(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function healthcheckTest(svc: Service): string {
  return words(svc.healthcheck?.test).join(' ');
}

// ---------------------------------------------------------------- compose interpolation

interface Interpolation {
  name: string;
  /** '', ':-', '-', ':?', '?', ':+', '+' */
  operator: string;
  argument: string;
  raw: string;
}

/** `$$` is an escaped dollar; `${NAME...}` and `$NAME` are interpolated by compose. */
const INTERPOLATION = /\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

function interpolationsIn(text: string): Interpolation[] {
  const found: Interpolation[] = [];
  for (const m of text.matchAll(INTERPOLATION)) {
    if (m[0] === '$$') continue;
    if (m[2] !== undefined) {
      found.push({ name: m[2], operator: '', argument: '', raw: m[0] });
      continue;
    }
    const inner = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(m[1] ?? '');
    if (!inner?.[1]) throw new Error(`unreadable interpolation ${m[0]}`);
    found.push({ name: inner[1], operator: inner[2] ?? '', argument: inner[3] ?? '', raw: m[0] });
  }
  return found;
}

/** Every string value of the document (keys are not interpolated by compose). */
function stringsIn(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap((item) => stringsIn(item));
  if (node !== null && typeof node === 'object') return Object.values(node).flatMap((item) => stringsIn(item));
  return [];
}

/** What compose does to a value, given the operator's environment. */
function resolve(text: string, env: Record<string, string | undefined>): string {
  return text.replace(INTERPOLATION, (whole) => {
    if (whole === '$$') return '$';
    const [i] = interpolationsIn(whole);
    if (!i) throw new Error(`unreadable interpolation ${whole}`);
    const value = env[i.name];
    switch (i.operator) {
      case ':-':
        return value ? value : i.argument;
      case '-':
        return value ?? i.argument;
      case ':?':
      case '?':
        if (value === undefined || (i.operator === ':?' && value === '')) throw new Error(`${i.name}: ${i.argument}`);
        return value;
      case ':+':
        return value ? i.argument : '';
      case '+':
        return value === undefined ? '' : i.argument;
      default:
        return value ?? '';
    }
  });
}

const TEST_CODEC_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const OPERATOR_ENV = {
  INTERNAL_SERVICE_KEY: 'compose-test-internal-key',
  TEMPORAL_CODEC_KEYS: TEST_CODEC_KEYS,
  TEMPORAL_SECRETS_KEYS: `s1:${Buffer.alloc(32, 8).toString('base64')}`,
};

function resolvedEnv(svc: Service, operatorEnv: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(envOf(svc)).map(([k, v]) => [k, resolve(v, operatorEnv)]));
}

describe('docker-compose.yml', () => {
  it('defines the eight services of the stack', () => {
    expect(Object.keys(compose.services ?? {})).toEqual(expect.arrayContaining([...SERVICES]));
  });

  it('publishes the gateway on 8002 and Temporal UI on 8080', () => {
    const gateway = portsOf(service('gateway'));
    expect(gateway).toContainEqual(expect.objectContaining({ published: 8002, target: 8002 }));
    // The container port is the one the gateway listens on.
    expect(envOf(service('gateway')).PORT).toBe('8002');
    expect(portsOf(service('temporal-ui'))).toContainEqual(expect.objectContaining({ published: 8080, target: 8080 }));
  });

  it('gives gateway, worker and migrate only variables that src/config/ declares', () => {
    for (const name of APP_SERVICES) {
      const keys = Object.keys(envOf(service(name)));
      expect({ service: name, unknown: keys.filter((k) => !(k in VARIABLES)) }).toEqual({ service: name, unknown: [] });
      expect({ service: name, missing: REQUIRED_APP_VARIABLES.filter((k) => !keys.includes(k)) }).toEqual({
        service: name,
        missing: [],
      });
    }
  });

  it('runs gateway, worker and migrate from one image with one environment', () => {
    const gateway = service('gateway');
    expect(gateway.build).toBeDefined();
    for (const name of ['worker', 'migrate']) {
      const svc = service(name);
      expect({ name, image: svc.image, build: svc.build }).toEqual({
        name,
        image: gateway.image,
        build: gateway.build,
      });
      // The worker must hold the gateway's codec keys, migrate its database URL: one block for all.
      expect(envOf(svc)).toEqual(envOf(gateway));
    }
    expect(gateway.command).toBeUndefined(); // the image's CMD: the API server
    expect(words(service('worker').command)).toEqual(['node', 'dist/src/workers/main.js']);
    expect(words(service('migrate').command)).toEqual(['node', 'dist/src/db/migrate.js']);
  });

  it('gives the app a shared environment that loadConfig accepts in production', () => {
    const env = resolvedEnv(service('gateway'), OPERATOR_ENV);
    const config = loadConfig(env);
    expect(config.isProduction).toBe(true);
    expect(config.HOST).toBe('0.0.0.0');
    expect(new URL(config.DATABASE_URL).hostname).toBe('postgres');
    expect(config.KAFKA_BOOTSTRAP_SERVERS).toEqual(['kafka:29092']);
    expect(config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS).toEqual(['kafka:29092']);
    expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(config.TEMPORAL_CODEC_KEYS.map((k) => k.id)).toEqual(['k1']);
    expect(config.INTERNAL_SERVICE_KEY).toBe(OPERATOR_ENV.INTERNAL_SERVICE_KEY);
    expect(config.AUTH_SERVICE_URL).toBe('http://auth-service:8000');
    expect(config.BILLING_SERVICE_URL).toBe('http://billing-service:8001');
  });

  it('has healthchecks on postgres, kafka, temporal and gateway', () => {
    for (const name of ['postgres', 'kafka', 'temporal', 'gateway']) {
      const hc = service(name).healthcheck;
      expect({ name, disabled: hc?.disable === true, test: words(hc?.test).length > 1 }).toEqual({
        name,
        disabled: false,
        test: true,
      });
    }
    expect(healthcheckTest(service('postgres'))).toContain('pg_isready');
    expect(healthcheckTest(service('kafka'))).toContain('kafka:29092');
    expect(healthcheckTest(service('gateway'))).toContain(`127.0.0.1:${envOf(service('gateway')).PORT}/health/ready`);
  });

  it('lets the broker carry chat messages of CHAT_MAX_MESSAGE_BYTES (25 MiB documents)', () => {
    const kafka = envOf(service('kafka'));
    expect(Number(kafka.KAFKA_MESSAGE_MAX_BYTES)).toBeGreaterThanOrEqual(CHAT_MAX_MESSAGE_BYTES);
    expect(Number(kafka.KAFKA_REPLICA_FETCH_MAX_BYTES)).toBeGreaterThanOrEqual(CHAT_MAX_MESSAGE_BYTES);
  });

  it("turns off the image's HTTP healthcheck where no HTTP server runs (worker, migrate)", () => {
    expect(service('worker').healthcheck?.disable).toBe(true);
    expect(service('migrate').healthcheck?.disable).toBe(true);
  });

  it('starts gateway and worker after migrate and temporal-setup completed and kafka/temporal are healthy', () => {
    for (const name of ['gateway', 'worker']) {
      expect({ name, deps: dependsOn(service(name)) }).toEqual({
        name,
        deps: expect.objectContaining({
          migrate: 'service_completed_successfully',
          'temporal-setup': 'service_completed_successfully',
          kafka: 'service_healthy',
          temporal: 'service_healthy',
        }),
      });
    }
    expect(dependsOn(service('migrate'))).toEqual(expect.objectContaining({ postgres: 'service_healthy' }));
    expect(dependsOn(service('temporal'))).toEqual(expect.objectContaining({ postgres: 'service_healthy' }));
    expect(dependsOn(service('temporal-setup'))).toEqual(expect.objectContaining({ temporal: 'service_healthy' }));
  });

  it("registers the four Keyword search attributes in the gateway's namespace", () => {
    const setup = service('temporal-setup');
    const script = [...words(setup.entrypoint), ...words(setup.command)].join('\n');
    for (const attr of SEARCH_ATTRIBUTES) expect(script).toContain(attr);
    expect(script).toMatch(/search-attribute create\b[^\n]*--type Keyword/);

    const gatewayEnv = envOf(service('gateway'));
    const setupEnv = envOf(setup);
    expect(setupEnv.TEMPORAL_NAMESPACE).toBe(gatewayEnv.TEMPORAL_NAMESPACE);
    expect(setupEnv.TEMPORAL_ADDRESS).toBe(gatewayEnv.TEMPORAL_ADDRESS);
    // auto-setup creates the namespace the attributes are registered in.
    expect(envOf(service('temporal')).DEFAULT_NAMESPACE).toBe(gatewayEnv.TEMPORAL_NAMESPACE);
  });

  it("points Temporal UI at the gateway's published /codec and lets that origin call it", () => {
    const ui = envOf(service('temporal-ui'));
    const gatewayEnv = envOf(service('gateway'));
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toMatch(/\/codec$/);

    // The browser calls the codec endpoint, so it must be the gateway's address on the host.
    const codec = new URL(ui.TEMPORAL_CODEC_ENDPOINT ?? '');
    expect(['localhost', '127.0.0.1']).toContain(codec.hostname);
    expect(codec.port).toBe(envOf(service('gateway')).ADMIN_PORT);
    const admin = portsOf(service('gateway')).find((p) => p.target === Number(codec.port));
    expect(admin).toEqual({ hostIp: '127.0.0.1', published: Number(codec.port), target: Number(codec.port) });

    expect(ui.TEMPORAL_ADDRESS).toBe(gatewayEnv.TEMPORAL_ADDRESS);
    const uiPort = portsOf(service('temporal-ui'))[0]?.published;
    const origins = (gatewayEnv.TEMPORAL_UI_ORIGINS ?? '').split(',');
    expect(origins).toContain(`http://localhost:${uiPort}`);
    expect(origins).toContain(ui.TEMPORAL_CORS_ORIGINS);
  });

  it('publishes the admin listener (/codec, /metrics) on the host loopback only, never the public port', () => {
    const env = envOf(service('gateway'));
    expect(env.ADMIN_PORT).not.toBe(env.PORT);
    // Inside the container it must listen beyond loopback for the published port to reach it.
    expect(env.ADMIN_HOST).toBe('0.0.0.0');
    const admin = portsOf(service('gateway')).filter((p) => p.target === Number(env.ADMIN_PORT));
    expect(admin).toEqual([{ hostIp: '127.0.0.1', published: Number(env.ADMIN_PORT), target: Number(env.ADMIN_PORT) }]);
    for (const svc of SERVICES) {
      if (svc === 'gateway') continue;
      expect(portsOf(service(svc)).map((p) => p.target)).not.toContain(Number(env.ADMIN_PORT));
    }
    const config = loadConfig(resolvedEnv(service('gateway'), OPERATOR_ENV));
    expect(config.CODEC_AUTH).toBe('none');
    expect(config.ADMIN_PORT).toBe(9002);
  });

  it('interpolates only config variables (or allowlisted names), each into the variable of its name', () => {
    const found = stringsIn(compose).flatMap((s) => interpolationsIn(s));
    expect(found.length).toBeGreaterThan(0);
    const unknown = [...new Set(found.map((i) => i.name))].filter(
      (n) => !(n in VARIABLES) && !(n in NON_CONFIG_INTERPOLATIONS),
    );
    expect(unknown).toEqual([]);

    // `AUTH_SERVICE_URL: ${AUTH_SERVICE_URL:-...}`: an operator sets a variable by its documented name.
    for (const [key, value] of Object.entries(envOf(service('gateway')))) {
      for (const i of interpolationsIn(value))
        expect({ key, interpolates: i.name }).toEqual({ key, interpolates: key });
    }
  });

  it('takes the secrets from the operator environment and refuses to start without them', () => {
    const found = stringsIn(compose).flatMap((s) => interpolationsIn(s));
    for (const secret of REQUIRED_SECRETS) {
      const uses = found.filter((i) => i.name === secret);
      expect({ secret, used: uses.length > 0 }).toEqual({ secret, used: true });
      expect({ secret, operators: [...new Set(uses.map((i) => i.operator))] }).toEqual({ secret, operators: [':?'] });
      expect(() => resolvedEnv(service('gateway'), { ...OPERATOR_ENV, [secret]: undefined })).toThrow(secret);
    }
    expect(composeText).not.toContain(DEFAULT_INTERNAL_SERVICE_KEY);
  });
});

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (!pending && !line.trim())) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = '';
  }
  if (pending.trim()) logical.push(pending.trim());

  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\w+)\s*([\s\S]*)$/.exec(line);
    if (!m?.[1]) continue;
    const keyword = m[1].toUpperCase();
    const args = (m[2] ?? '').trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from?.[1]) throw new Error(`unreadable FROM: ${line}`);
      stages.push({ from: from[1], name: from[2]?.toLowerCase(), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

/** The final stage, then the stages it is built FROM, up to the external image. */
function finalLineage(): Stage[] {
  const last = stages.at(-1);
  if (!last) throw new Error('Dockerfile has no FROM');
  const chain = [last];
  for (;;) {
    const current = chain.at(-1)!;
    const parent = stages
      .slice(0, stages.indexOf(current))
      .find((s) => s.name !== undefined && s.name === current.from.toLowerCase());
    if (!parent) return chain;
    chain.push(parent);
  }
}

function lastInstruction(keyword: string): Instruction | undefined {
  for (const stage of finalLineage()) {
    const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

describe('Dockerfile', () => {
  it('builds in deps, build and runtime stages on a Debian node:24 image, not Alpine', () => {
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['deps', 'build', 'runtime']));
    expect(stages.at(-1)?.name).toBe('runtime');
    const stageNames = new Set(stages.map((s) => s.name));
    const external = stages.map((s) => s.from).filter((f) => !stageNames.has(f.toLowerCase()));
    expect(external.length).toBeGreaterThan(0);
    for (const image of external) {
      expect(image).toMatch(/^node:24(\.\d+){0,2}-(bookworm|trixie|bullseye)(-slim)?$/);
      expect(image).not.toMatch(/alpine/i);
    }
    expect(finalLineage().at(-1)?.from).toMatch(/^node:24\b/);
  });

  it('runs the final stage as a non-root user', () => {
    const user = lastInstruction('USER')?.args.split(':')[0];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('declares a HEALTHCHECK against /health/live', () => {
    const hc = lastInstruction('HEALTHCHECK')?.args ?? '';
    expect(hc).not.toMatch(/^NONE\b/i);
    expect(hc).toContain('/health/live');
  });

  it('bounds the V8 heap of gateway and worker, with the same settings in scripts/dev.sh and the benchmark', () => {
    const runtime = finalLineage()[0]!;
    const env = runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    const line = env.find((e) => e.startsWith('NODE_OPTIONS='));
    const m = /^NODE_OPTIONS="([^"]+)" MALLOC_ARENA_MAX=(\d+) MALLOC_MMAP_THRESHOLD_=(\d+)$/.exec(line ?? '');
    expect(m).not.toBeNull();
    const options = m![1]!;
    expect(options).toMatch(/--max-old-space-size=\d+/);
    expect(options).toMatch(/--max-semi-space-size=\d+/);
    // npm ci runs before it: the flags are for the application, not for the build.
    const runIndex = runtime.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(runtime.instructions.findIndex((i) => i.keyword === 'ENV' && i.args === line)).toBeGreaterThan(runIndex);
    const devSh = readFileSync(join(ROOT, 'scripts/dev.sh'), 'utf8');
    expect(devSh).toContain(`RUNTIME_NODE_OPTIONS="${options}"`);
    expect(devSh).toContain(`MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${m![2]}}`);
    expect(devSh).toContain(`MALLOC_MMAP_THRESHOLD_=\${MALLOC_MMAP_THRESHOLD_:-${m![3]}}`);
    // The benchmark reads the line itself (bench/lib/runtime.ts RUNTIME_ENV).
    expect(readFileSync(join(ROOT, 'bench/lib/runtime.ts'), 'utf8')).toMatch(
      /readFileSync\(join\(ROOT, 'Dockerfile'\)/,
    );
  });

  it('ships the route table the gateway loads at start (ROUTES_FILE)', () => {
    const copies = finalLineage()[0]!
      .instructions.filter((i) => i.keyword === 'COPY')
      .map((i) => i.args);
    expect(copies).toContain('config ./config');
    expect(VARIABLES.ROUTES_FILE.default).toBe('config/routes.yaml');
  });

  it('starts the API server by default', () => {
    const cmd = lastInstruction('CMD');
    expect(cmd).toBeDefined();
    expect(JSON.parse(cmd?.args ?? 'null')).toEqual(['node', 'dist/src/api/server.js']);
  });

  it('ships production dependencies only, with NODE_ENV=production', () => {
    const runtime = finalLineage()[0]!;
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev\b/.test(r))).toBe(true);
    const copiedModules = runtime.instructions.filter((i) => i.keyword === 'COPY' && /node_modules/.test(i.args));
    expect(copiedModules).toEqual([]);
    const env = runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    expect(env.join(' ')).toMatch(/\bNODE_ENV=production\b/);
  });

  it('keeps node_modules, build output, .git and .env out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.env', '.stack']));
  });
});
