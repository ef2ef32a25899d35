import type { Logger } from '../logger';
import type { ChatRequestReply } from '../chat/request-reply';
import type { BillingClient } from '../upstreams/billing';
import { createBillingSetupActivities } from './billing-setup';
import { createChatActivities } from './chat';
import { createDiagnosticsActivities } from './diagnostics';
import { createOrgInviteActivities } from './org-invite';
import { createSignUpActivities, type SignUpActivityDependencies } from './sign-up';

export interface ActivityDependencies extends SignUpActivityDependencies {
  logger: Logger;
  workerIdentity: string;
  /** The worker's own chat request/reply client (connects on first use). */
  chat: ChatRequestReply;
  /** Billing for the sign-up follow-up (billing-setup workflow). */
  billing: BillingClient;
}

/**
 * Builds the activity implementations with their dependencies (clients are shared, never global);
 * one file per workflow (activities/<workflow>.ts).
 */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDiagnosticsActivities(deps),
    ...createChatActivities(deps.chat),
    ...createSignUpActivities(deps),
    ...createOrgInviteActivities(deps),
    ...createBillingSetupActivities(deps),
  };
}

export type GatewayActivities = ReturnType<typeof createActivities>;
