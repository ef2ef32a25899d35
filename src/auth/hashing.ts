import { sha256Hex } from '../lib/hash';

/** How an e-mail appears in workflow ids and the invites table: never in plaintext. */
export const emailHashOf = (email: string) => sha256Hex(email.trim().toLowerCase());

/** How a token (access or invite) is keyed in revoked_tokens, org_invites and caches: never in plaintext. */
export const tokenHash = (token: string) => sha256Hex(token);
