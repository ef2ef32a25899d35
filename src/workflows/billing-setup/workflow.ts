import { ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { GatewayActivities } from '../../activities';
import { GatewayOperation, GatewayRequestId, GatewayUserId } from '../../temporal/search-attributes';
import { billingSetupWorkflowId, type BillingSetupResult, type BillingUser } from './contract';

/**
 * Billing may be down for minutes or hours: retry until it answers, backing off to a minute (a
 * refusal is a non-retryable failure). Each call has its own 5 s deadline (BILLING_TIMEOUT_MS),
 * well inside startToClose.
 */
const billing = proxyActivities<GatewayActivities>({
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
  },
});

/**
 * billing-setup/<user_id>: initialises a new user in billing, then gives them the default plan.
 * Input and history hold the user id, e-mail and name only, never a token (see docs/billing.md).
 */
export async function billingSetupWorkflow(user: BillingUser): Promise<BillingSetupResult> {
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
