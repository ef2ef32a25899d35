import { BillingError, type BillingStore } from './store';

const PREFIX = '/internal/billing';

/** FastAPI's 422 for a body field. */
function invalid(field: string, msg: string): BillingError {
  return new BillingError(422, {
    detail: [{ type: 'value_error', loc: ['body', field], msg, input: null, url: 'https://errors.pydantic.dev' }],
  });
}

function requireBody(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'Field required');
  return body as Record<string, unknown>;
}

function positive(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  if (typeof v !== 'number' || !(v > 0)) throw invalid(field, 'Input should be greater than 0');
  return v;
}

function optionalRef(body: Record<string, unknown>): string | undefined {
  return typeof body.ref === 'string' && body.ref ? body.ref : undefined;
}

/** One user endpoint of billing; `undefined` when the method and path are not one. */
export function handleUserCall(
  store: BillingStore,
  method: string,
  path: string,
  sub: string,
  body: unknown,
): { status: number; body: unknown } | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const op = `${method} ${path.slice(PREFIX.length)}`;
  const ok = (b: unknown) => ({ status: 200, body: b });
  switch (op) {
    case 'POST /user/init':
      return ok(store.init(sub));
    case 'GET /user/status':
      return ok(store.status(sub));
    case 'GET /subscription':
      return ok(store.subscription(sub));
    case 'POST /balance':
      requireBody(body);
      return ok(store.balance(sub));
    case 'POST /check': {
      const units = positive(requireBody(body), 'units');
      const { balance } = store.balance(sub);
      return ok({ allowed: balance >= units, balance });
    }
    case 'POST /debit':
    case 'POST /credit': {
      const b = requireBody(body);
      const direction = op === 'POST /debit' ? 'debit' : 'credit';
      return ok(store.move(sub, direction, positive(b, 'units'), optionalRef(b)));
    }
    case 'POST /plan/apply': {
      const b = requireBody(body);
      if (typeof b.plan_code !== 'string') throw invalid('plan_code', 'Field required');
      const autoRenew = typeof b.auto_renew === 'boolean' ? b.auto_renew : true;
      return ok(store.applyPlan(sub, b.plan_code, optionalRef(b), autoRenew));
    }
    default:
      return undefined;
  }
}
