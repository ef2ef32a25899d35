/** The caller of a user route, as verified at the edge from the access token. */
export interface AuthenticatedUser {
  /** The user id (token `sub`, a UUID). */
  sub: string;
  email: string | null;
  name: string | null;
  roles: string[];
  /** Token expiry, seconds since the epoch. */
  exp: number;
  /** The raw access token, forwarded upstream; never logged, never put in events or workflows. */
  token: string;
  /**
   * `Bearer <token>`, built once per verification: the hot path forwards this one string on every
   * call instead of concatenating (and undici then re-flattening) a new copy. A secret like `token`.
   */
  authorization: string;
  /** SHA-256 of the token (hex): the key of the logout denylist and of per-token caches, computed once per verification. */
  tokenHash: string;
}

/** The `user_context` the chat protocol carries (chat-kafka.md); org data comes from /v1/client/me. */
export interface UserContext {
  sub: string;
  email: string | null;
  full_name: string | null;
  active_org_id: string | null;
  org_role: 'owner' | 'admin' | 'member' | null;
}

/** The auth service's GET /v1/client/me answer (auth-service.md). */
export interface MeResponse {
  sub: string;
  email: string;
  full_name: string | null;
  orgs: { org_id: string; name: string; role: 'owner' | 'admin' | 'member'; is_owner: boolean }[];
  active_org_id: string | null;
}
