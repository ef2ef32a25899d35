export { startAuthFake, DEFAULT_INTERNAL_KEY, DEFAULT_REALM_PATH } from './server';
export type {
  AuthFake,
  AuthFakeCall,
  AuthFakeOptions,
  CallMatch,
  DownMode,
  FailNextOptions,
  TokenResponse,
} from './api';
export type { SignTokenOptions, TokenClaims, TokenForgery } from './tokens';
export type { FakeInvite, FakeOrg, FakeSession, FakeUser, OrgRole } from './model';
