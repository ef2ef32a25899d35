import { HttpError } from '../errors';
import type { HttpUpstream } from './http-upstream';
import { parseJson, reshapeUpstreamError } from './upstream-errors';

/** Calls one operation of billing may take (billing-service.md). */
export const BILLING_TIMEOUT_MS = 5_000;
const PREFIX = '/internal/billing';

export interface BillingAnswer<T> {
  status: number;
  body: T | undefined;
}

export interface BillingStatus {
  sub?: string;
  balance_exists?: boolean;
  has_active_plan?: boolean;
  active_plan_code?: string | null;
  is_initialized?: boolean;
}

export interface BillingSubscription {
  next_debit?: string | null;
  plan?: { price_rub?: number | string | null } | null;
}

/**
 * The billing service's user API, for the gateway's adapters and for the sign-up activities. The
 * caller supplies the `X-User-Data` value (billing's only notion of identity); the client adds
 * the gateway's `X-Internal-Key` and never retries a mutation.
 */
export class BillingClient {
  constructor(
    private readonly upstream: () => HttpUpstream | undefined,
    private readonly internalKey: string,
  ) {}

  /** Any status: the caller decides; transport failures throw `HttpError`s. */
  async call<T>(method: 'GET' | 'POST', path: string, userData: string, body?: object): Promise<BillingAnswer<T>> {
    const upstream = this.upstream();
    if (!upstream) throw new HttpError('upstream_unavailable', 'billing is not configured');
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-user-data': userData,
      'x-internal-key': this.internalKey,
    };
    if (body) headers['content-type'] = 'application/json';
    const res = await upstream.send({
      method,
      path: `${PREFIX}${path}`,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      timeoutMs: BILLING_TIMEOUT_MS,
      retries: method === 'GET' ? 1 : 0,
    });
    return { status: res.status, body: parseJson(res.body) as T | undefined };
  }

  /** `call` that throws the reshaped error unless the answer is 200. */
  async expect200<T>(method: 'GET' | 'POST', path: string, userData: string, body?: object): Promise<T> {
    const res = await this.call<T>(method, path, userData, body);
    if (res.status !== 200) throw reshapeUpstreamError('billing', res.status, res.body);
    return res.body as T;
  }

  balance(userData: string) {
    return this.expect200<{ balance?: unknown }>('POST', '/balance', userData, {});
  }

  subscription(userData: string) {
    return this.expect200<BillingSubscription>('GET', '/subscription', userData);
  }

  initUser(userData: string) {
    return this.call<{ success?: boolean; balance_created?: boolean }>('POST', '/user/init', userData);
  }

  status(userData: string) {
    return this.call<BillingStatus>('GET', '/user/status', userData);
  }

  /** Not idempotent upstream (re-applying the current plan removes it): check `status` first. */
  applyPlan(userData: string, planCode: string, ref: string) {
    return this.call<{ plan_id?: unknown }>('POST', '/plan/apply', userData, { plan_code: planCode, ref });
  }
}
