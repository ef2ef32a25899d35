import {
  ApplicationFailure,
  condition,
  defineUpdate,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { GatewayActivities } from '../activities';
import { SIGN_UP_CONFLICT, type SignUpAnswer, type SignUpInput } from '../auth/sign-up-types';
import { DATABASE_ACTIVITY, DATABASE_LOCAL_ACTIVITY, UPSTREAM_ACTIVITY, UPSTREAM_LOCAL_ACTIVITY } from './policies';
import { startBillingSetup } from './billing-setup';

/**
 * Answers the HTTP call as soon as the account exists (Update-with-Start early return). Its
 * argument is the caller's credential proofs: only a caller with the run's e-mail and password
 * is admitted, and only until the account exists (runs started before proofs admit nobody new).
 */
export const signUpAnswer = defineUpdate<SignUpAnswer, [proofs: string[]]>('signUpAnswer');

const GatewayUserId = defineSearchAttributeKey('GatewayUserId', SearchAttributeType.KEYWORD);

const upstream = proxyActivities<GatewayActivities>(UPSTREAM_ACTIVITY);
const upstreamLocal = proxyLocalActivities<GatewayActivities>(UPSTREAM_LOCAL_ACTIVITY);
const outbox = proxyActivities<GatewayActivities>(DATABASE_ACTIVITY);
const outboxLocal = proxyLocalActivities<GatewayActivities>(DATABASE_LOCAL_ACTIVITY);

/**
 * sign-up/<sha256(email)>: creates the account and reads the new user's profile in one local
 * activity (password and tokens sealed: the workflow never sees them), records `user_registered`
 * with an event id derived from the run (a retried step cannot publish twice), then answers the
 * waiting HTTP call through the update.
 */
export async function signUpWorkflow(input: SignUpInput): Promise<{ user_id: string; email: string }> {
  let answer: SignUpAnswer | undefined;
  let failure: ApplicationFailure | undefined;
  setHandler(
    signUpAnswer,
    async () => {
      await condition(() => answer !== undefined || failure !== undefined);
      if (failure) throw failure;
      return answer!;
    },
    {
      validator: (proofs: string[] | undefined) => {
        // Once the account exists the e-mail is registered: a later sign-up is a new one (409).
        if (answer || !input.credential || !Array.isArray(proofs) || !proofs.includes(input.credential))
          throw ApplicationFailure.create({
            type: SIGN_UP_CONFLICT,
            message: 'This e-mail address is already registered',
            nonRetryable: true,
          });
      },
    },
  );

  try {
    const account = { email: input.email, password: input.password, full_name: input.full_name };
    let created: SignUpAnswer;
    if (patched('sign-up-sealed-secrets')) {
      // The activity also tells an account this run created from one that existed before it.
      const startedAt = workflowInfo().runStartTime.toISOString();
      created = await upstreamLocal.signUpAccount({ ...account, startedAt });
      upsertSearchAttributes([{ key: GatewayUserId, value: created.user.user_id }]);
    } else if (patched('sign-up-local-activity')) {
      // Runs started before sealing: one local activity with the plaintext password.
      created = await upstreamLocal.createAccountAndFetchUser(account);
    } else {
      const tokens = await upstream.createAccount(account);
      created = { tokens, user: await upstream.fetchUser(tokens.access_token) };
    }
    const { user } = created;
    // Billing setup runs on its own (billing may be down for long); runs from older code had none.
    const startBilling = async () => {
      if (patched('billing-setup'))
        await startBillingSetup(
          { user_id: user.user_id, email: user.email, full_name: user.full_name },
          input.requestId,
        );
    };
    const { workflowId, runId } = workflowInfo();
    const registered = {
      eventKey: `${workflowId}/${runId}`,
      user_id: user.user_id,
      email: user.email,
      requestId: input.requestId,
      ip: input.ip,
    };
    if (patched('sign-up-registered-before-answer')) {
      // The event is committed before the caller hears of the account, so its immediate sign-in's
      // user_logged_in follows it in the outbox (per-key order); a local activity: no task round trip.
      await outboxLocal.recordUserRegistered(registered);
      answer = created;
      await startBilling();
    } else {
      answer = created;
      await startBilling();
      await outbox.recordUserRegistered(registered);
    }
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
