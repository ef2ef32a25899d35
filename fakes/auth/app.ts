import type { FastifyInstance } from 'fastify';
import { registerClientRoutes } from './client-routes';
import { AuthRequests, type AuthFakeContext } from './context';
import { registerInternalRoutes, registerOrgRoutes } from './org-routes';
import { registerRealmRoutes } from './realm-routes';
import { RouteTable, installErrorAnswers } from './routing';

export type { AuthFakeContext } from './context';

/** Registers the auth service's routes, error shapes and quirks on a bare Fastify instance. */
export function registerAuthFakeRoutes(app: FastifyInstance, ctx: AuthFakeContext): void {
  const table = new RouteTable(app);
  installErrorAnswers(app, table, () => ctx.baseUrl());
  const requests = new AuthRequests(ctx);
  registerClientRoutes(table.route, ctx, requests);
  registerOrgRoutes(table.route, ctx, requests);
  registerInternalRoutes(table.route, ctx, requests);
  registerRealmRoutes(table, ctx);
}
