import { activityInfo } from '@temporalio/activity';
import type { Database } from '../db/database';
import type { Config } from '../config';
import { deterministicEventId, recordEventNow } from '../events/outbox';
import type { SignedUpUser, UpstreamTokens } from '../auth/sign-up-types';
import type { MeResponse } from '../auth/types';
import { userFromMe } from '../auth/user';
import { httpFailure } from '../temporal/http-failure';
import { SecretBox } from '../temporal/secrets';
import type { AuthServiceClient } from '../upstreams/auth-service';
import { ALREADY_REGISTERED, type SignUpAnswer } from '../workflows/sign-up/contract';
import { authServiceFailure } from './upstream-failure';

export interface SignUpActivityDependencies {
  authService: AuthServiceClient;
  db: Database;
  config: Config;
}

interface SignUpContext extends SignUpActivityDependencies {
  secrets: SecretBox;
}

interface NewAccount {
  email: string;
  password: string;
  full_name: string;
}

const registered = () => httpFailure(ALREADY_REGISTERED);

async function signIn(ctx: SignUpContext, email: string, password: string): Promise<UpstreamTokens | undefined> {
  const res = await ctx.authService.call<UpstreamTokens>('POST', '/v1/client/sign-in/password', {
    body: { email, password },
  });
  return res.status === 200 ? res.body : undefined;
}

/**
 * POST /v1/client/sign-up. "E-mail taken" on a retry (attempt > 1) may be our own earlier
 * attempt whose answer was lost: if the password signs in, the account is ours.
 */
async function createAccount(ctx: SignUpContext, input: NewAccount): Promise<UpstreamTokens> {
  const res = await ctx.authService.call<UpstreamTokens>('POST', '/v1/client/sign-up', { body: input, retry: false });
  if (res.status === 201 || res.status === 200) return res.body;
  if (res.status === 400 && activityInfo().attempt > 1) {
    const tokens = await signIn(ctx, input.email, input.password);
    if (tokens) return tokens;
  }
  if (res.status === 400) throw registered();
  throw authServiceFailure(res.status, res.body);
}

async function fetchUser(ctx: SignUpContext, accessToken: string): Promise<SignedUpUser> {
  const res = await ctx.authService.call<MeResponse>('GET', '/v1/client/me', { token: accessToken, retry: false });
  if (res.status !== 200) throw authServiceFailure(res.status, res.body);
  return userFromMe(res.body);
}

/**
 * Whether the account was created by the sign-up run started at `startedAt`, from the auth
 * service's `created_at` (internal API): an older account was registered before, whatever the
 * upstream answered to this run's sign-up.
 */
async function createdSince(ctx: SignUpContext, userId: string, startedAt: string): Promise<boolean> {
  const res = await ctx.authService.call<{ created_at?: unknown }>('GET', `/auth/user/${encodeURIComponent(userId)}`, {
    internal: true,
    retry: false,
  });
  if (res.status !== 200) throw authServiceFailure(res.status, res.body, 'The auth service refused the account lookup');
  const createdAt = typeof res.body.created_at === 'string' ? Date.parse(res.body.created_at) : NaN;
  // Without a readable created_at there is nothing to compare: the caller proved the password.
  if (Number.isNaN(createdAt)) return true;
  return createdAt >= Date.parse(startedAt) - ctx.config.SIGN_UP_CLOCK_SKEW_MS;
}

/** Ends a session the gateway will not hand out (best effort: it expires anyway). */
async function dropSession(ctx: SignUpContext, tokens: UpstreamTokens): Promise<void> {
  await ctx.authService
    .call('POST', '/v1/client/logout', { body: { refresh_token: tokens.refresh_token }, retry: false })
    .catch(() => undefined);
}

/**
 * Sign-up with sealed secrets. "E-mail taken" is checked by signing in with the same password
 * (on any attempt: a worker crash can replay this at attempt 1 after the account was created);
 * either way the account must have been created since the run started, else 409. The upstream
 * may answer a sign-up of a registered e-mail with the right password with tokens: also 409.
 */
async function signUpAccount(ctx: SignUpContext, input: NewAccount & { startedAt: string }): Promise<SignUpAnswer> {
  const password = ctx.secrets.open(input.password);
  const res = await ctx.authService.call<UpstreamTokens>('POST', '/v1/client/sign-up', {
    body: { email: input.email, password, full_name: input.full_name },
    retry: false,
  });
  let tokens: UpstreamTokens | undefined;
  if (res.status === 201 || res.status === 200) tokens = res.body;
  else if (res.status === 400) tokens = await signIn(ctx, input.email, password);
  else throw authServiceFailure(res.status, res.body);
  if (!tokens) throw registered();
  const user = await fetchUser(ctx, tokens.access_token);
  if (!(await createdSince(ctx, user.user_id, input.startedAt))) {
    await dropSession(ctx, tokens);
    throw registered();
  }
  return { tokens: ctx.secrets.sealJson(tokens), user };
}

/** Activities of the sign-up workflow: the account upstream, and its `user_registered` event. */
export function createSignUpActivities(deps: SignUpActivityDependencies) {
  const ctx: SignUpContext = { ...deps, secrets: SecretBox.fromConfig(deps.config.TEMPORAL_SECRETS_KEYS) };
  return {
    signUpAccount: (input: NewAccount & { startedAt: string }) => signUpAccount(ctx, input),
    // The two steps as separate activities: still registered for sign-up runs started before
    // `createAccountAndFetchUser` (see `patched` in the workflow), which replay through them.
    createAccount: (input: NewAccount) => createAccount(ctx, input),
    fetchUser: (accessToken: string) => fetchUser(ctx, accessToken),

    /**
     * Both steps of sign-up in one activity (run as a local activity: no server round trip per
     * step). A retry after the account was created recovers it through `createAccount`'s sign-in.
     */
    async createAccountAndFetchUser(input: NewAccount): Promise<{ tokens: UpstreamTokens; user: SignedUpUser }> {
      const tokens = await createAccount(ctx, input);
      return { tokens, user: await fetchUser(ctx, tokens.access_token) };
    },

    /** Idempotent: the event id derives from the workflow run, so a retry writes nothing new. */
    async recordUserRegistered(input: {
      eventKey: string;
      user_id: string;
      email: string;
      requestId: string;
      ip: string | null;
    }): Promise<void> {
      await recordEventNow(deps.db, deps.config, {
        eventType: 'user_registered',
        eventId: deterministicEventId(input.eventKey, 'user_registered'),
        data: { user_id: input.user_id, email: input.email },
        requestId: input.requestId,
        actor: { user_id: input.user_id, ip: input.ip },
      });
    },
  };
}
