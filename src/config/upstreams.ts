import { httpUrl, nonEmpty, text, v } from './parse';

/** The route table of proxied services, and billing. */
export const UPSTREAMS = {
  ROUTES_FILE: v(
    'config/routes.yaml',
    nonEmpty,
    'Route table of the proxied microservices (relative to the working directory); reloaded on SIGHUP',
  ),
  BILLING_SERVICE_URL: v(
    'http://billing-service:8001',
    httpUrl,
    'Base URL of the billing service (the route table interpolates it; sign-up calls it)',
  ),
  BILLING_DEFAULT_PLAN: v('free', text, 'Plan sign-up applies to a new user in billing (empty = none)'),
} as const;
