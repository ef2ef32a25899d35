import { createHash } from 'node:crypto';

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** How an e-mail appears in workflow ids and the invites table: never in plaintext. */
export const emailHashOf = (email: string) => sha256(email.trim().toLowerCase());
