import { randomUUID, timingSafeEqual } from 'node:crypto';
import {
  hashPassword,
  opaqueToken,
  type FakeInvite,
  type FakeOrg,
  type FakeSession,
  type FakeUser,
  type OrgMember,
  type OrgRole,
  type UserOrg,
} from './model';
import { DetailError, UnexpectedError } from './validation';

const INSUFFICIENT = 'Insufficient permissions';
const NOT_A_MEMBER = 'User is not a member of this organization';
const ALREADY_A_MEMBER = 'User is already a member of this organization';

/**
 * The auth service's state: users (Keycloak), refresh sessions (Keycloak), organisations,
 * memberships and invites (its own database). Errors are thrown as the service answers them.
 */
export class AuthStore {
  readonly users = new Map<string, FakeUser>();
  readonly orgs = new Map<string, FakeOrg>();
  readonly invites = new Map<string, FakeInvite>();
  readonly sessions = new Map<string, FakeSession>();
  private readonly sessionByRefreshToken = new Map<string, string>();

  constructor(
    private readonly sessionTtlMs: number,
    private readonly inviteTtlMs: number,
  ) {}

  clear(): void {
    this.users.clear();
    this.orgs.clear();
    this.invites.clear();
    this.sessions.clear();
    this.sessionByRefreshToken.clear();
  }

  createUser(input: {
    email: string;
    password: string;
    full_name: string;
    sub?: string;
    created_at?: string;
  }): FakeUser {
    const email = input.email.trim().toLowerCase();
    if (this.findUserByEmail(email)) throw new DetailError(400, 'User with this email already exists');
    const salt = opaqueToken(12);
    const user: FakeUser = {
      sub: input.sub ?? randomUUID(),
      email,
      full_name: input.full_name,
      passwordHash: hashPassword(input.password, salt),
      salt,
      active_org_id: null,
      created_at: input.created_at ?? new Date().toISOString(),
    };
    this.users.set(user.sub, user);
    return user;
  }

  findUserByEmail(email: string): FakeUser | undefined {
    const wanted = email.trim().toLowerCase();
    for (const user of this.users.values()) if (user.email === wanted) return user;
    return undefined;
  }

  /**
   * A validly signed token whose user the service has not seen yet (e.g. minted by a test with
   * `signToken`): the user exists in Keycloak, so the service records it from the claims.
   */
  userFromClaims(sub: string, claims: Record<string, unknown>): FakeUser {
    const existing = this.users.get(sub);
    if (existing) return existing;
    const user: FakeUser = {
      sub,
      email: typeof claims.email === 'string' ? claims.email.toLowerCase() : `${sub}@users.invalid`,
      full_name: typeof claims.name === 'string' ? claims.name : '',
      passwordHash: null,
      salt: opaqueToken(12),
      active_org_id: null,
      created_at: new Date().toISOString(),
    };
    this.users.set(user.sub, user);
    return user;
  }

  checkPassword(user: FakeUser, password: string): boolean {
    if (user.passwordHash === null) return false;
    const given = Buffer.from(hashPassword(password, user.salt), 'hex');
    const stored = Buffer.from(user.passwordHash, 'hex');
    return given.length === stored.length && timingSafeEqual(given, stored);
  }

  setPassword(user: FakeUser, password: string): void {
    user.passwordHash = hashPassword(password, user.salt);
  }

  startSession(userId: string): { session: FakeSession; refreshToken: string } {
    const session: FakeSession = {
      id: randomUUID(),
      user_id: userId,
      refreshTokens: new Set(),
      expires_at: Date.now() + this.sessionTtlMs,
    };
    this.sessions.set(session.id, session);
    return { session, refreshToken: this.issueRefreshToken(session) };
  }

  /** A new refresh token in the same session; unknown, ended or expired sessions → 401. */
  refreshSession(refreshToken: string): { session: FakeSession; refreshToken: string } {
    const session = this.liveSession(refreshToken);
    if (!session) throw new DetailError(401, 'Invalid refresh token');
    return { session, refreshToken: this.issueRefreshToken(session) };
  }

  /** Ends the session the refresh token belongs to; access tokens stay valid until they expire. */
  endSession(refreshToken: string): void {
    const session = this.liveSession(refreshToken);
    if (!session) throw new DetailError(400, 'Invalid refresh token');
    this.dropSession(session);
  }

  /** Sessions currently open for a user (tests assert that logout ended one). */
  sessionsOf(userId: string): FakeSession[] {
    return [...this.sessions.values()].filter((s) => s.user_id === userId && s.expires_at > Date.now());
  }

  createOrg(ownerId: string, name: string): FakeOrg {
    for (const org of this.orgs.values()) {
      // The real service lets the database's unique constraint fail and answers a bare 500.
      if (org.name === name) {
        throw new UnexpectedError('duplicate key value violates unique constraint "organizations_name_key"');
      }
    }
    const org: FakeOrg = {
      org_id: randomUUID(),
      name,
      owner_id: ownerId,
      created_at: new Date().toISOString(),
      members: new Map([[ownerId, 'owner']]),
    };
    this.orgs.set(org.org_id, org);
    const owner = this.users.get(ownerId);
    if (owner && owner.active_org_id === null) owner.active_org_id = org.org_id;
    return org;
  }

  getOrg(orgId: string): FakeOrg {
    const org = this.orgs.get(orgId);
    if (!org) throw new DetailError(404, 'Organization not found');
    return org;
  }

  orgsOf(userId: string): UserOrg[] {
    const out: UserOrg[] = [];
    for (const org of this.orgs.values()) {
      const role = org.members.get(userId);
      if (role) out.push({ org_id: org.org_id, name: org.name, role, is_owner: org.owner_id === userId });
    }
    return out;
  }

  membersOf(orgId: string): OrgMember[] {
    const org = this.getOrg(orgId);
    return [...org.members].map(([userId, role]) => ({
      user_id: userId,
      email: this.users.get(userId)?.email ?? '',
      role,
    }));
  }

  addMember(orgId: string, userId: string, role: OrgRole): void {
    const org = this.getOrg(orgId);
    if (org.members.has(userId)) throw new DetailError(400, ALREADY_A_MEMBER);
    org.members.set(userId, role);
    const user = this.users.get(userId);
    if (user && user.active_org_id === null) user.active_org_id = org.org_id;
  }

  switchOrg(user: FakeUser, orgId: string): void {
    const org = this.orgs.get(orgId);
    if (!org || !org.members.has(user.sub)) throw new DetailError(400, NOT_A_MEMBER);
    user.active_org_id = org.org_id;
  }

  invite(actorId: string, orgId: string, email: string, role: OrgRole): FakeInvite {
    const org = this.getOrg(orgId);
    if (org.owner_id !== actorId) throw new DetailError(400, INSUFFICIENT);
    const invitee = this.findUserByEmail(email);
    if (invitee && org.members.has(invitee.sub)) throw new DetailError(400, ALREADY_A_MEMBER);
    const invite: FakeInvite = {
      token: opaqueToken(),
      org_id: org.org_id,
      email: email.trim().toLowerCase(),
      role,
      invited_by: actorId,
      expires_at: Date.now() + this.inviteTtlMs,
      accepted_by: null,
    };
    this.invites.set(invite.token, invite);
    return invite;
  }

  /** The service does not compare the invited e-mail with the caller's: the gateway must. */
  acceptInvite(user: FakeUser, token: string): FakeInvite {
    const invite = this.invites.get(token);
    if (!invite) throw new DetailError(404, 'Invite not found');
    if (invite.accepted_by !== null) throw new DetailError(400, 'Invite has already been used');
    if (invite.expires_at <= Date.now()) throw new DetailError(400, 'Invite has expired');
    if (!this.orgs.has(invite.org_id)) throw new DetailError(404, 'Organization not found');
    this.addMember(invite.org_id, user.sub, invite.role);
    invite.accepted_by = user.sub;
    return invite;
  }

  removeMember(actorId: string, orgId: string, userId: string): void {
    const org = this.getOrg(orgId);
    if (org.owner_id !== actorId) throw new DetailError(400, INSUFFICIENT);
    if (!org.members.has(userId)) throw new DetailError(400, 'Member not found');
    if (userId === org.owner_id) throw new DetailError(400, 'Cannot remove the organization owner');
    org.members.delete(userId);
    const user = this.users.get(userId);
    if (user && user.active_org_id === org.org_id) user.active_org_id = null;
  }

  setMemberRole(actorId: string, orgId: string, userId: string, role: OrgRole): void {
    const org = this.getOrg(orgId);
    if (org.owner_id !== actorId) throw new DetailError(400, INSUFFICIENT);
    if (!org.members.has(userId)) throw new DetailError(400, 'Member not found');
    if (userId === org.owner_id) throw new DetailError(400, 'Cannot change the role of the organization owner');
    org.members.set(userId, role);
  }

  private issueRefreshToken(session: FakeSession): string {
    const token = opaqueToken();
    session.refreshTokens.add(token);
    this.sessionByRefreshToken.set(token, session.id);
    return token;
  }

  private liveSession(refreshToken: string): FakeSession | undefined {
    const id = this.sessionByRefreshToken.get(refreshToken);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return undefined;
    if (session.expires_at <= Date.now()) {
      this.dropSession(session);
      return undefined;
    }
    return session;
  }

  private dropSession(session: FakeSession): void {
    for (const token of session.refreshTokens) this.sessionByRefreshToken.delete(token);
    this.sessions.delete(session.id);
  }
}
