import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DEFAULT_INTERNAL_SERVICE_KEY, VARIABLES, loadConfig } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const KEY = Buffer.alloc(32, 7).toString('base64');

describe('configuration', () => {
  it('has the defaults of the original gateway and of the contracts', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8002);
    expect(c.INTERNAL_SERVICE_KEY).toBe(DEFAULT_INTERNAL_SERVICE_KEY);
    expect(c.AUTH_SERVICE_URL).toBe('http://auth-service:8001');
    expect(c.KAFKA_BOOTSTRAP_SERVERS).toEqual(['kafka:29092']);
    expect(c.CHAT_SERVICE_RESPONSES_TOPIC).toBe('chat-service-responses');
    expect(c.CHAT_UI_SETTINGS_TOPIC).toBe('chat-ui-settings');
    expect(c.CHAT_REQUEST_TIMEOUT_MS).toBe(15000);
    expect(c.CHAT_UPLOAD_BATCH_SIZE).toBe(50);
    expect(c.WORKFLOW_SYNC_TIMEOUT_MS).toBe(10000);
    expect(c.INVITE_TTL).toBe(7 * 24 * 3600 * 1000);
    expect(c.TEMPORAL_TASK_QUEUE).toBe('api-gateway');
  });

  it('accepts the original postgresql+asyncpg:// URL form', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql+asyncpg://u:p@db:5432/gw' }).DATABASE_URL).toBe(
      'postgresql://u:p@db:5432/gw',
    );
  });

  it.each([
    ['PORT', 'abc', /^Invalid configuration: PORT must be an integer \(got "abc"\)$/],
    ['PORT', '70000', /PORT must be between 1 and 65535/],
    ['KAFKA_BOOTSTRAP_SERVERS', 'kafka', /KAFKA_BOOTSTRAP_SERVERS "kafka" is not host:port/],
    ['AUTH_SERVICE_URL', 'ftp://x', /AUTH_SERVICE_URL must be an http\(s\) URL/],
    ['DATABASE_URL', 'mysql://x/y', /DATABASE_URL must be a postgresql:\/\/ URL/],
    ['COOKIE_SECURE', 'maybe', /COOKIE_SECURE must be true or false/],
    ['INVITE_TTL', 'a week', /INVITE_TTL must be a duration/],
    ['TEMPORAL_CODEC_KEYS', 'k1:c2hvcnQ=', /TEMPORAL_CODEC_KEYS key "k1" must be 32 bytes/],
    ['CHAT_UI_MESSAGES_TOPIC', 'bad topic!', /CHAT_UI_MESSAGES_TOPIC is not a valid Kafka topic name/],
  ])('refuses %s=%s with a message naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('reports every bad variable at once, on one line', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toHaveLength(2);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('refuses the default internal key and a missing codec key in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /INTERNAL_SERVICE_KEY must be changed.*TEMPORAL_CODEC_KEYS must be set/,
    );
    const secrets = `s1:${Buffer.alloc(32, 3).toString('base64')}`;
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        INTERNAL_SERVICE_KEY: 's3cret',
        TEMPORAL_CODEC_KEYS: `k1:${KEY}`,
        TEMPORAL_SECRETS_KEYS: secrets,
      }),
    ).not.toThrow();
  });

  it('refuses production without a secrets key, or with one the codec endpoint also holds', () => {
    const base = { NODE_ENV: 'production', INTERNAL_SERVICE_KEY: 's3cret', TEMPORAL_CODEC_KEYS: `k1:${KEY}` };
    expect(() => loadConfig(base)).toThrow(/TEMPORAL_SECRETS_KEYS must be set in production/);
    expect(() => loadConfig({ ...base, TEMPORAL_SECRETS_KEYS: `s1:${KEY}` })).toThrow(
      /TEMPORAL_SECRETS_KEYS must differ from TEMPORAL_CODEC_KEYS/,
    );
  });

  it('takes TRUST_PROXY as a hop count or a CIDR list, never "trust every hop"', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.0.2.7,fd00::/8' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      '192.0.2.7',
      'fd00::/8',
    ]);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY must be a hop count or a CIDR list/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY "10.0.0.0\/33" is not an IP/);
    expect(() => loadConfig({ TRUST_PROXY: 'loadbalancer' })).toThrow(/is not an IP address or CIDR/);
  });

  it('needs a JWKS for CODEC_AUTH=jwt', () => {
    expect(() => loadConfig({ CODEC_AUTH: 'jwt' })).toThrow(/CODEC_AUTH=jwt needs CODEC_JWKS_URL or AUTH_JWKS_URL/);
    expect(loadConfig({ CODEC_AUTH: 'jwt', AUTH_JWKS_URL: 'http://idp/certs' }).CODEC_AUTH).toBe('jwt');
  });

  it('parses codec keys in order, first one active', () => {
    const c = loadConfig({ TEMPORAL_CODEC_KEYS: `new:${KEY}, old:${Buffer.alloc(32, 1).toString('base64')}` });
    expect(c.TEMPORAL_CODEC_KEYS.map((k) => k.id)).toEqual(['new', 'old']);
  });

  it('documents every variable in .env.example and docs/configuration.md', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const reference = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const missingInExample = Object.keys(VARIABLES).filter((n) => !new RegExp(`^#?\\s*${n}=`, 'm').test(example));
    const missingInReference = Object.keys(VARIABLES).filter((n) => !reference.includes(`| \`${n}\``));
    expect(missingInExample).toEqual([]);
    expect(missingInReference).toEqual([]);
  });
});
