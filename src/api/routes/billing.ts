import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { normaliseTimestamp } from '../../route-table/transforms';
import { BillingClient } from '../../upstreams/billing';
import { withErrors } from '../schemas';

const Balance = Type.Object({
  user_id: Type.String(),
  balance_units: Type.Number(),
  updated_at: Type.String({ format: 'date-time' }),
});

const NextBilling = Type.Object({
  next_billing_date: Type.Union([Type.String(), Type.Null()]),
  amount: Type.Number(),
  currency: Type.Literal('RUB'),
});

/** A number billing sent, possibly as a digit string; else the answer is refused (logged by field). */
function numberAt(request: FastifyRequest, value: unknown, field: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isFinite(n)) return n;
  request.log.warn({ upstream: 'billing', field }, 'billing answer refused: field missing or not a number');
  throw new HttpError('upstream_error', 'billing sent an answer the gateway cannot read');
}

/**
 * The front end's two billing routes that are not a plain proxy (billing-service.md, "Routes the
 * front end expects"): adapters over the route table's `billing` upstream (same pool and breaker).
 */
const billingRoutes: FastifyPluginAsync = async (app) => {
  const billing = new BillingClient(() => app.routeTable.upstream('billing'), app.config.INTERNAL_SERVICE_KEY);

  app.addHook('onRequest', async (request, reply) => app.authenticate(request, reply));

  app.get(
    '/api/user/balance',
    {
      schema: {
        tags: ['billing'],
        summary: "The caller's unit balance (billing POST /internal/billing/balance)",
        security: [{ bearer: [] }],
        response: withErrors({ 200: Balance }, 401, 502, 503, 504),
      },
    },
    async (request) => {
      const answer = await billing.balance(await app.userDataHeader(request));
      return {
        user_id: request.user!.sub,
        balance_units: numberAt(request, answer?.balance, 'balance'),
        updated_at: new Date().toISOString(),
      };
    },
  );

  app.get(
    '/api/user/subscription/next-billing',
    {
      schema: {
        tags: ['billing'],
        summary: "The caller's next debit: date and amount in roubles (404 without a subscription)",
        security: [{ bearer: [] }],
        response: withErrors({ 200: NextBilling }, 401, 404, 502, 503, 504),
      },
    },
    async (request) => {
      const sub = await billing.subscription(await app.userDataHeader(request));
      const next = typeof sub?.next_debit === 'string' ? normaliseTimestamp(sub.next_debit) : null;
      return {
        next_billing_date: next,
        amount: numberAt(request, sub?.plan?.price_rub, 'plan.price_rub') / 100,
        currency: 'RUB' as const,
      };
    },
  );
};

export default billingRoutes;
