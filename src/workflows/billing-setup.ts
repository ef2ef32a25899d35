import { ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import {
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
  defineSearchAttributeKey,
} from '@temporalio/common';
import type { GatewayActivities } from '../activities';
import { UPSTREAM_REJECTED } from './policies';

/** Keys of src/temporal/operations.ts, redeclared: that module loads the Temporal client (I/O). */
const GatewayOperation = defineSearchAttributeKey('GatewayOperation', SearchAttributeType.KEYWORD);
const GatewayUserId = defineSearchAttributeKey('GatewayUserId', SearchAttributeType.KEYWORD);
const GatewayRequestId = defineSearchAttributeKey('GatewayRequestId', SearchAttributeType.KEYWORD);

/**
 * Billing may be down for minutes or hours: retry until it answers, backing off to a minute. Each
 * call has its own 5 s deadline (BILLING_TIMEOUT_MS), well inside startToClose.
 */
const billing = proxyActivities<GatewayActivities>({
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [UPSTREAM_REJECTED],
  },
});

/** What billing setup knows of a new user: no token (it never sees the user's session). */
export interface BillingUser {
  user_id: string;
  email: string;
  full_name: string | null;
}

export const billingSetupWorkflowId = (userId: string) => `billing-setup/${userId}`;

/**
 * billing-setup/<user_id>: initialises a new user in billing, then gives them the default plan.
 * Input and history hold the user id, e-mail and name only, never a token (see docs/billing.md).
 */
export async function billingSetupWorkflow(user: BillingUser): Promise<{ plan: string | null; applied: boolean }> {
  await billing.initBillingUser(user);
  return billing.applyDefaultBillingPlan(user);
}

/** Started by sign-up once the account exists; outlives it (ABANDON), and starts once per user. */
export async function startBillingSetup(user: BillingUser, requestId: string): Promise<void> {
  try {
    await startChild(billingSetupWorkflow, {
      workflowId: billingSetupWorkflowId(user.user_id),
      args: [user],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: GatewayOperation, value: 'billing-setup' },
        { key: GatewayUserId, value: user.user_id },
        { key: GatewayRequestId, value: requestId },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
