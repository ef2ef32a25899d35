import { LruMap } from '../lib/bounded-map';
import type { AuthenticatedUser } from './types';

/** The tail of the signature segment: 24 base64url characters, 144 bits of an RS256/ES256 signature. */
const KEY_CHARS = 24;

/**
 * Tokens whose signature and claims were checked, each until its `until` (ms). Keyed by the end of
 * the token (its signature) rather than the whole ~900-character string, which the Map hashed and
 * the LRU re-inserted on every request. A hit also needs the whole token to be equal, so a token
 * that shares the tail of a remembered one (forged, or by chance) is a miss: it is checked in full
 * and, only if valid, replaces the entry. Only verified tokens are ever added.
 */
export class VerifiedTokens {
  private readonly entries: LruMap<string, { token: string; until: number; user: AuthenticatedUser }>;

  constructor(limit: number) {
    this.entries = new LruMap(limit);
  }

  get(token: string, now: number): AuthenticatedUser | undefined {
    const hit = this.entries.get(token.slice(-KEY_CHARS));
    return hit !== undefined && hit.token === token && hit.until > now ? hit.user : undefined;
  }

  set(token: string, user: AuthenticatedUser, until: number): void {
    this.entries.set(token.slice(-KEY_CHARS), { token, until, user });
  }
}
