import { createHash, randomBytes } from 'node:crypto';

export type OrgRole = 'owner' | 'admin' | 'member';
/** Roles a member can be given by an invite or a role change (the owner is set at creation). */
export const ASSIGNABLE_ROLES = ['admin', 'member'] as const;

export interface FakeUser {
  /** The user id (Keycloak's, a UUID): `sub` in tokens and in the service's answers. */
  readonly sub: string;
  readonly email: string;
  full_name: string;
  /** null for users known only from a token (they exist in Keycloak, not yet here). */
  passwordHash: string | null;
  readonly salt: string;
  active_org_id: string | null;
  readonly created_at: string;
}

export interface FakeOrg {
  readonly org_id: string;
  readonly name: string;
  readonly owner_id: string;
  readonly created_at: string;
  /** user id → role, in the order members joined. */
  readonly members: Map<string, OrgRole>;
}

export interface FakeInvite {
  readonly token: string;
  readonly org_id: string;
  readonly email: string;
  readonly role: OrgRole;
  readonly invited_by: string;
  /** Milliseconds since the epoch. */
  expires_at: number;
  accepted_by: string | null;
}

export interface FakeSession {
  readonly id: string;
  readonly user_id: string;
  /** Every refresh token issued in this session stays usable until the session ends (Keycloak's default). */
  readonly refreshTokens: Set<string>;
  /** Milliseconds since the epoch. */
  expires_at: number;
}

export interface UserOrg {
  org_id: string;
  name: string;
  role: OrgRole;
  is_owner: boolean;
}

export interface OrgMember {
  user_id: string;
  email: string;
  role: OrgRole;
}

export function hashPassword(password: string, salt: string): string {
  return createHash('sha256').update(salt).update('\0').update(password).digest('hex');
}

/** Opaque, URL-safe random string (refresh tokens, invite tokens). */
export function opaqueToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
