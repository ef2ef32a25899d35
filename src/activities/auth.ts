import { activityInfo } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import { HttpError } from '../errors';
import { deterministicEventId, recordEventNow } from '../events/outbox';
import type { SignedUpUser, UpstreamTokens } from '../auth/sign-up-types';
import type { MeResponse } from '../auth/types';
import { userFromMe } from '../auth/user';
import type { AuthServiceClient } from '../upstreams/auth-service';
import { retryableStatus, upstreamRefusal, upstreamRejected } from './upstream-failure';

export interface AuthActivityDependencies {
  authService: AuthServiceClient;
  orm: MikroORM;
  config: Config;
}

export function createAuthActivities(deps: AuthActivityDependencies) {
  const { authService } = deps;

  async function signIn(email: string, password: string): Promise<UpstreamTokens | undefined> {
    const res = await authService.call<UpstreamTokens>('POST', '/v1/client/sign-in/password', {
      body: { email, password },
    });
    return res.status === 200 ? res.body : undefined;
  }

  /**
   * POST /v1/client/sign-up. "E-mail taken" on a retry (attempt > 1) may be our own earlier
   * attempt whose answer was lost: if the password signs in, the account is ours.
   */
  async function createAccount(input: { email: string; password: string; full_name: string }): Promise<UpstreamTokens> {
    const res = await authService.call<UpstreamTokens>('POST', '/v1/client/sign-up', { body: input, retry: false });
    if (res.status === 201 || res.status === 200) return res.body;
    if (retryableStatus(res.status)) throw new Error(`auth service answered ${res.status}`);
    if (res.status === 400 && activityInfo().attempt > 1) {
      const tokens = await signIn(input.email, input.password);
      if (tokens) return tokens;
    }
    if (res.status === 400)
      throw upstreamRejected(new HttpError('conflict', 'This e-mail address is already registered'));
    throw upstreamRefusal(res.status, res.body);
  }

  async function fetchUser(accessToken: string): Promise<SignedUpUser> {
    const res = await authService.call<MeResponse>('GET', '/v1/client/me', { token: accessToken, retry: false });
    if (res.status !== 200) {
      if (retryableStatus(res.status)) throw new Error(`auth service answered ${res.status}`);
      throw upstreamRefusal(res.status, res.body);
    }
    return userFromMe(res.body);
  }

  return {
    // The two steps as separate activities: still registered for sign-up runs started before
    // `createAccountAndFetchUser` (see `patched` in the workflow), which replay through them.
    createAccount,
    fetchUser,

    /**
     * Both steps of sign-up in one activity (run as a local activity: no server round trip per
     * step). A retry after the account was created recovers it through `createAccount`'s sign-in.
     */
    async createAccountAndFetchUser(input: {
      email: string;
      password: string;
      full_name: string;
    }): Promise<{ tokens: UpstreamTokens; user: SignedUpUser }> {
      const tokens = await createAccount(input);
      return { tokens, user: await fetchUser(tokens.access_token) };
    },

    /** Idempotent: the event id derives from the workflow run, so a retry writes nothing new. */
    async recordUserRegistered(input: {
      eventKey: string;
      user_id: string;
      email: string;
      requestId: string;
      ip: string | null;
    }): Promise<void> {
      await recordEventNow(deps.orm, deps.config, {
        eventType: 'user_registered',
        eventId: deterministicEventId(input.eventKey, 'user_registered'),
        data: { user_id: input.user_id, email: input.email },
        requestId: input.requestId,
        actor: { user_id: input.user_id, ip: input.ip },
      });
    },
  };
}
