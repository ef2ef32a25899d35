import { SignJWT } from 'jose';
import type { Config } from '../config';
import { sha256Bytes } from '../lib/hash';
import type { BillingClient } from '../upstreams/billing';
import { httpFailure } from '../temporal/http-failure';
import { userDataHeader } from '../upstreams/user-data';
import { billingSetupWorkflowId, type BillingSetupResult, type BillingUser } from '../workflows/billing-setup/contract';

export interface BillingSetupActivityDependencies {
  billing: BillingClient;
  config: Pick<Config, 'BILLING_DEFAULT_PLAN' | 'INTERNAL_SERVICE_KEY'>;
}

/**
 * Billing only decodes the JWT in X-User-Data for its `sub` (billing-service.md), so the activity
 * acts as the user with a short-lived HS256 token of its own (issuer `api-gateway`, audience
 * `billing-service`) instead of carrying the user's access token through Temporal. The gateway's
 * own verifier accepts asymmetric algorithms only, so this token is worth nothing anywhere else.
 */
async function serviceToken(userId: string, internalKey: string): Promise<string> {
  const key = sha256Bytes(`billing-x-user-data:${internalKey}`);
  return new SignJWT({ sub: userId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('api-gateway')
    .setAudience('billing-service')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

/**
 * A refusal (4xx) will not change on retry: a final failure, billing's fault as far as the user is
 * concerned (502). Anything else (5xx, 429, no answer) is retried by Temporal.
 */
function failure(step: string, status: number): Error {
  const detail = `billing ${step}: HTTP ${status}`;
  if (status >= 400 && status < 500 && status !== 429) return httpFailure({ code: 'upstream_error', detail });
  return new Error(detail);
}

/** Activities of the billing-setup workflow. */
export function createBillingSetupActivities(deps: BillingSetupActivityDependencies) {
  const userData = async (user: BillingUser) =>
    userDataHeader(await serviceToken(user.user_id, deps.config.INTERNAL_SERVICE_KEY), {
      email: user.email,
      full_name: user.full_name,
      orgs: [],
      active_org_id: null,
    });

  return {
    /** POST /user/init; a user billing already knows counts as initialised (`balance_created: false`). */
    async initBillingUser(user: BillingUser): Promise<{ balance_created: boolean }> {
      const res = await deps.billing.initUser(await userData(user));
      if (res.status !== 200) throw failure('user/init', res.status);
      return { balance_created: res.body?.balance_created === true };
    },

    /**
     * BILLING_DEFAULT_PLAN via /plan/apply, which is not idempotent (re-applying the current plan
     * removes it): every attempt reads /user/status first, so a retry after an apply whose answer
     * was lost finds the plan in place and stops.
     */
    async applyDefaultBillingPlan(user: BillingUser): Promise<BillingSetupResult> {
      const plan = deps.config.BILLING_DEFAULT_PLAN;
      if (!plan) return { plan: null, applied: false };
      const header = await userData(user);
      const status = await deps.billing.status(header);
      if (status.status !== 200) throw failure('user/status', status.status);
      if (status.body?.active_plan_code === plan) return { plan, applied: false };
      const res = await deps.billing.applyPlan(header, plan, `${billingSetupWorkflowId(user.user_id)}/${plan}`);
      if (res.status !== 200) throw failure('plan/apply', res.status);
      return { plan, applied: true };
    },
  };
}
