export {
  startAuthFake,
  DEFAULT_INTERNAL_KEY,
  DEFAULT_REALM_PATH,
  type AuthFake,
  type AuthFakeCall,
  type AuthFakeOptions,
  type CallMatch,
  type DownMode,
  type FailNextOptions,
  type TokenResponse,
} from './server';
export type { SignTokenOptions, TokenClaims, TokenForgery } from './tokens';
export type { FakeInvite, FakeOrg, FakeSession, FakeUser, OrgRole } from './store';
