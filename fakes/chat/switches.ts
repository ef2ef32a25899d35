/** Misbehaviour on demand, to test the gateway against a chat service that is slow, broken or noisy. */
export interface ChatFakeSwitches {
  /** Wait this long before answering. */
  delayMs: number;
  /** Answer with this error instead (an `{code, message}` or an old-style plain string). */
  error: { code: string; message: string } | string | null;
  /** Never answer. */
  silent: boolean;
  /** Send every reply and chunk twice. */
  duplicateReplies: boolean;
  /** Send stream chunks pairwise swapped (1, 0, 3, 2, …). */
  shuffleChunks: boolean;
  /** Pause between two stream chunks. */
  tokenDelayMs: number;
  /**
   * Send what an independent chat service may legally send: `null` in every field the gateway does
   * not route by, per-user ids as digit strings, unknown fields everywhere (variance.ts).
   */
  variance: boolean;
  /**
   * Lose the stream chunk with this sequence number: `skip` never sends it, `garble` sends bytes
   * that are not JSON in its place (the gateway drops them before the stream sees them).
   */
  chunkFault: { sequence: number; mode: 'skip' | 'garble' } | null;
  /** Pad every `message` chunk's content with this many characters (large streams). */
  chunkPadBytes: number;
  /** Apply the switches above only to these operations (default: all). */
  operations: string[] | null;
}

export const DEFAULT_SWITCHES: ChatFakeSwitches = {
  delayMs: 0,
  error: null,
  silent: false,
  duplicateReplies: false,
  shuffleChunks: false,
  tokenDelayMs: 0,
  variance: false,
  chunkFault: null,
  chunkPadBytes: 0,
  operations: null,
};
