import { parseRouteTable, RouteTableError } from '../../src/route-table/load';
import { RouteTable } from '../../src/route-table/table';
import { normaliseTimestamps } from '../../src/route-table/transforms';
import { asciiJson, userDataHeader } from '../../src/upstreams/user-data';

const env: Record<string, string> = { BILLING_SERVICE_URL: 'http://billing:8001', KEY: 's3cret' };
const lookup = (name: string) => env[name];

const table = (route: string) => `
upstreams:
  billing:
    url: \${BILLING_SERVICE_URL}
routes:
  - name: first
    methods: [GET]
    path: /v1/a/{id}
    upstream: billing
    upstream_path: /a/{id}
    auth: user
  - name: second
${route}
`;

const second = (fields: Record<string, string>) =>
  Object.entries({
    methods: '[GET]',
    path: '/v1/b',
    upstream: 'billing',
    upstream_path: '/b',
    auth: 'none',
    ...fields,
  })
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');

describe('route table file', () => {
  it('interpolates ${NAME}, fills defaults and keeps every field', () => {
    const t = parseRouteTable(table(second({ set_headers: '{ X-Internal-Key: "${KEY}" }' })), lookup);
    expect(t.upstreams.billing).toMatchObject({
      url: 'http://billing:8001',
      connections: 64,
      breaker: { threshold: 5 },
      max_answer_bytes: 8 * 1024 * 1024,
    });
    expect(t.routes[1]).toMatchObject({
      name: 'second',
      set_headers: { 'X-Internal-Key': 's3cret' },
      timeout_ms: 10_000,
      retries: 0,
      body_limit: 1_048_576,
      user_context: 'none',
    });
  });

  it.each([
    [{ timeout_ms: '"soon"' }, /^routes\[1\] \(second\)\.timeout_ms: Expected integer/],
    [{ auth: 'maybe' }, /^routes\[1\] \(second\)\.auth: /],
    [
      { methods: '[POST]', retries: '2' },
      /^routes\[1\] \(second\)\.retries: retries are only allowed when every method is idempotent$/,
    ],
    [{ upstream: 'nowhere' }, /^routes\[1\] \(second\)\.upstream: no upstream named "nowhere"$/],
    [{ upstream_path: '/b/{id}' }, /^routes\[1\] \(second\)\.upstream_path: \{id\} is not a parameter of path$/],
    [{ transform: 'magic' }, /^routes\[1\] \(second\)\.transform: unknown transform "magic"$/],
    [{ user_context: 'x-user-data' }, /^routes\[1\] \(second\)\.user_context: needs auth: user$/],
    [
      { set_headers: '{ X-Key: "${MISSING}" }' },
      /^routes\[1\] \(second\)\.set_headers\.X-Key: \$\{MISSING\} is not set$/,
    ],
    [{ colour: 'blue' }, /^routes\[1\] \(second\)/],
    [{ path: '/v1/a/{other}' }, /^routes\[1\] \(second\)\.path: GET \/v1\/a\/\{other\} is already routed$/],
  ])('refuses %j with one line naming the entry and field', (fields, message) => {
    let error: unknown;
    try {
      const t = parseRouteTable(table(second(fields)), lookup);
      // Duplicates are found when the router is built.
      new RouteTable(t, new Map(), 1);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RouteTableError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a file that is not YAML in one line', () => {
    expect(() => parseRouteTable('routes: [\n  - : :', lookup)).toThrow(/^not valid YAML: /);
  });
});

describe('billing timestamps and X-User-Data', () => {
  it('drops the stray Z after an offset, deep, and leaves other strings alone', () => {
    expect(
      normaliseTimestamps({
        a: '2027-01-05T06:36:26.207084+00:00Z',
        b: ['2027-01-05T06:36:26+03:00Z'],
        c: { d: '2027-01-05T06:36:26Z', e: 'Zulu' },
      }),
    ).toEqual({
      a: '2027-01-05T06:36:26.207084+00:00',
      b: ['2027-01-05T06:36:26+03:00'],
      c: { d: '2027-01-05T06:36:26Z', e: 'Zulu' },
    });
  });

  it('escapes everything outside printable ASCII and round-trips', () => {
    const header = userDataHeader('t.o.k', {
      email: 'a@b.c',
      full_name: 'Анна 😀',
      orgs: [{ org_id: 'o', name: 'Ёж', role: 'owner', is_owner: true }],
      active_org_id: null,
    });
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(header)).toEqual({
      jwt_token: 't.o.k',
      user_data: {
        email: 'a@b.c',
        full_name: 'Анна 😀',
        orgs: [{ org_id: 'o', name: 'Ёж', role: 'owner' }],
        active_org_id: null,
      },
    });
    expect(asciiJson('\u007f')).toBe('"\\u007f"');
  });
});
