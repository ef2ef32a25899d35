import { VerifiedTokens } from '../../src/auth/verified-tokens';
import type { AuthenticatedUser } from '../../src/auth/types';

const userOf = (sub: string, token: string): AuthenticatedUser => ({
  sub,
  email: null,
  name: null,
  roles: [],
  exp: 2_000_000_000,
  token,
  authorization: `Bearer ${token}`,
  tokenHash: `hash-of-${sub}`,
});

const signature = 'S'.repeat(300);
const victim = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2aWN0aW0ifQ.${signature}`;
// Same signature segment, other claims: what an attacker who saw the signature could send.
const forged = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdHRhY2tlciJ9.${signature}`;

describe('VerifiedTokens', () => {
  it('answers a remembered token until its time is up', () => {
    const cache = new VerifiedTokens(10);
    cache.set(victim, userOf('victim', victim), 1_000);
    expect(cache.get(victim, 999)?.sub).toBe('victim');
    expect(cache.get(victim, 1_000)).toBeUndefined();
  });

  it('never answers a different token that shares the remembered one’s key', () => {
    const cache = new VerifiedTokens(10);
    cache.set(victim, userOf('victim', victim), 1_000);
    expect(cache.get(forged, 0)).toBeUndefined();
    // A same-key token that was verified replaces the entry; the first is then a miss, not the other's user.
    cache.set(forged, userOf('other', forged), 1_000);
    expect(cache.get(victim, 0)).toBeUndefined();
    expect(cache.get(forged, 0)?.sub).toBe('other');
  });

  it('holds at most its limit', () => {
    const cache = new VerifiedTokens(2);
    const tokens = ['a.b.1111111111111111111111111', 'a.b.2222222222222222222222222', 'a.b.3333333333333333333333333'];
    for (const t of tokens) cache.set(t, userOf(t, t), 1_000);
    expect(tokens.map((t) => cache.get(t, 0)?.sub)).toEqual([undefined, tokens[1], tokens[2]]);
  });
});
