import {
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities';
import { httpFailure } from '../../temporal/http-failure';
import { GatewayUserId } from '../../temporal/search-attributes';
import { startBillingSetup } from '../billing-setup/workflow';
import { EarlyReturn } from '../shared/early-return';
import {
  DATABASE_ACTIVITY,
  DATABASE_LOCAL_ACTIVITY,
  UPSTREAM_ACTIVITY,
  UPSTREAM_LOCAL_ACTIVITY,
} from '../shared/policies';
import { ALREADY_REGISTERED, signUpAnswer, type SignUpAnswer, type SignUpInput } from './contract';

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
  const early = new EarlyReturn<SignUpAnswer>();
  setHandler(signUpAnswer, () => early.answer(), {
    validator: (proofs: string[] | undefined) => {
      // Once the account exists the e-mail is registered: a later sign-up is a new one (409).
      if (early.value || !input.credential || !Array.isArray(proofs) || !proofs.includes(input.credential))
        throw httpFailure(ALREADY_REGISTERED);
    },
  });

  try {
    const created = await createAccount(input);
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
    const registeredEvent = {
      eventKey: `${workflowId}/${runId}`,
      user_id: user.user_id,
      email: user.email,
      requestId: input.requestId,
      ip: input.ip,
    };
    if (patched('sign-up-registered-before-answer')) {
      // The event is committed before the caller hears of the account, so its immediate sign-in's
      // user_logged_in follows it in the outbox (per-key order); a local activity: no task round trip.
      await outboxLocal.recordUserRegistered(registeredEvent);
      early.value = created;
      await startBilling();
    } else {
      early.value = created;
      await startBilling();
      await outbox.recordUserRegistered(registeredEvent);
    }
    // Let a waiting update read the answer before the workflow completes.
    await condition(() => true);
    return { user_id: user.user_id, email: user.email };
  } catch (err) {
    throw early.fail(err);
  }
}

/** The account and its user, by the activities of the code the run started with (see `patched`). */
async function createAccount(input: SignUpInput): Promise<SignUpAnswer> {
  const account = { email: input.email, password: input.password, full_name: input.full_name };
  if (patched('sign-up-sealed-secrets')) {
    // The activity also tells an account this run created from one that existed before it.
    const startedAt = workflowInfo().runStartTime.toISOString();
    const created = await upstreamLocal.signUpAccount({ ...account, startedAt });
    upsertSearchAttributes([{ key: GatewayUserId, value: created.user.user_id }]);
    return created;
  }
  if (patched('sign-up-local-activity')) {
    // Runs started before sealing: one local activity with the plaintext password.
    return upstreamLocal.createAccountAndFetchUser(account);
  }
  const tokens = await upstream.createAccount(account);
  return { tokens, user: await upstream.fetchUser(tokens.access_token) };
}
