import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DIR, ROOT } from './params';

/** The route table entry the bench loads (issue 16's row): its public path and its upstream path. */
export const TABLE_ROUTE = '/v1/billing/subscription';
export const TABLE_UPSTREAM_PATH = '/internal/billing/subscription';
const ROUTE_NAME = 'billing-subscription';

/**
 * The static responder's answer on the billing path, in the contract's shape (billing-service.md,
 * GET /subscription), timestamps with the real service's stray `Z` so the route's transform has work.
 */
export function staticSubscription(sub: string): string {
  const at = (iso: string) => `${iso}+00:00Z`;
  const plan = { plan_code: 'free', name: 'Free', monthly_units: 10, price_rub: 0, is_active: true };
  return JSON.stringify({
    id: 1,
    user_id: sub,
    plan_code: 'free',
    started_at: at('2026-12-01T06:36:26.207084'),
    expires_at: at('2026-12-31T06:36:26.207084'),
    auto_renew: true,
    status: 'active',
    created_at: at('2026-12-01T06:36:26.207084'),
    remaining_units: 10,
    next_debit: at('2026-12-31T06:36:26.207084'),
    tariff_properties: ['10 units per month'],
    plan: { ...plan, created_at: at('2026-12-01T06:36:26.207084') },
  });
}

/**
 * The repository's route table with the bench route's per-user limit raised to the schema's
 * maximum: one bench user would hit the shipped 120/min at once, and the counter still runs.
 * Written to the run directory; the gateway reads it through ROUTES_FILE.
 */
export function benchRoutesFile(): string {
  const table = parse(readFileSync(join(ROOT, 'config/routes.yaml'), 'utf8')) as {
    routes: { name: string; rate_limit_per_minute?: number }[];
  };
  const route = table.routes.find((r) => r.name === ROUTE_NAME);
  if (!route) throw new Error(`config/routes.yaml has no route ${ROUTE_NAME}`);
  route.rate_limit_per_minute = 1_000_000;
  const file = join(DIR, 'routes.yaml');
  writeFileSync(file, stringify(table));
  return file;
}
