import {
  ApplicationFailure,
  condition,
  defineUpdate,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { GatewayActivities } from '../activities';
import type { SignUpAnswer, SignUpInput } from '../auth/sign-up-types';
import { DATABASE_ACTIVITY, UPSTREAM_ACTIVITY, UPSTREAM_LOCAL_ACTIVITY } from './policies';
import { startBillingSetup } from './billing-setup';

/** Answers the HTTP call as soon as the account exists (Update-with-Start early return). */
export const signUpAnswer = defineUpdate<SignUpAnswer>('signUpAnswer');

const upstream = proxyActivities<GatewayActivities>(UPSTREAM_ACTIVITY);
const upstreamLocal = proxyLocalActivities<GatewayActivities>(UPSTREAM_LOCAL_ACTIVITY);
const outbox = proxyActivities<GatewayActivities>(DATABASE_ACTIVITY);

/**
 * sign-up/<sha256(email)>: creates the account and reads the new user's profile in one local
 * activity (the password only ever in encrypted payloads), answers the waiting HTTP call through the update, then records
 * `user_registered` with an event id derived from the run, so a retried step cannot publish twice.
 */
export async function signUpWorkflow(input: SignUpInput): Promise<{ user_id: string; email: string }> {
  let answer: SignUpAnswer | undefined;
  let failure: ApplicationFailure | undefined;
  setHandler(signUpAnswer, async () => {
    await condition(() => answer !== undefined || failure !== undefined);
    if (failure) throw failure;
    return answer!;
  });

  try {
    const account = { email: input.email, password: input.password, full_name: input.full_name };
    // One local activity answers sooner than two activity tasks through the server (the HTTP call
    // waits for it). Runs started by an older worker keep the two-activity path on replay.
    if (patched('sign-up-local-activity')) {
      answer = await upstreamLocal.createAccountAndFetchUser(account);
    } else {
      const tokens = await upstream.createAccount(account);
      answer = { tokens, user: await upstream.fetchUser(tokens.access_token) };
    }
    const { user } = answer;
    // Billing setup runs on its own (billing may be down for long); runs from older code had none.
    if (patched('billing-setup')) {
      await startBillingSetup({ user_id: user.user_id, email: user.email, full_name: user.full_name }, input.requestId);
    }
    const { workflowId, runId } = workflowInfo();
    await outbox.recordUserRegistered({
      eventKey: `${workflowId}/${runId}`,
      user_id: user.user_id,
      email: user.email,
      requestId: input.requestId,
      ip: input.ip,
    });
    // Let a waiting update read the answer before the workflow completes.
    await condition(() => true);
    return { user_id: user.user_id, email: user.email };
  } catch (err) {
    failure = err instanceof ApplicationFailure ? err : ApplicationFailure.fromError(err);
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof ApplicationFailure) failure = cause;
    throw failure;
  }
}
