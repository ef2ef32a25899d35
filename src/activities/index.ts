import { activityInfo } from '@temporalio/activity';
import type { Logger } from '../logger';
import type { ChatRequestReply } from '../chat/request-reply';
import { createChatActivities } from './chat';
import { createAuthActivities, type AuthActivityDependencies } from './auth';
import { createInviteActivities } from './invites';
import { createBillingActivities } from './billing';
import type { BillingClient } from '../upstreams/billing';

export interface ActivityDependencies extends AuthActivityDependencies {
  logger: Logger;
  workerIdentity: string;
  /** The worker's own chat request/reply client (connects on first use). */
  chat: ChatRequestReply;
  /** Billing for the sign-up follow-up (billing-setup workflow). */
  billing: BillingClient;
}

/** Builds the activity implementations with their dependencies (clients are shared, never global). */
export function createActivities(deps: ActivityDependencies) {
  return {
    echo(message: string): Promise<{ message: string; worker: string }> {
      deps.logger.debug({ workflowId: activityInfo().workflowExecution?.workflowId }, 'echo activity');
      return Promise.resolve({ message, worker: deps.workerIdentity });
    },
    ...createChatActivities(deps.chat),
    ...createAuthActivities(deps),
    ...createInviteActivities(deps),
    ...createBillingActivities(deps),
  };
}

export type GatewayActivities = ReturnType<typeof createActivities>;
