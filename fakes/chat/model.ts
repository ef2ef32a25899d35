import type { ChatDocument, Conversation, Message, Prompt } from '../../src/chat/schemas';

/** A chat-protocol error the fake answers with (chat-kafka.md → Reply). */
export class FakeChatError extends Error {
  constructor(
    readonly code: 'not_found' | 'validation_error' | 'forbidden' | 'conflict' | 'unavailable' | 'internal',
    message: string,
  ) {
    super(message);
  }
}

export interface UserData {
  next: { conversation: number; message: number; prompt: number; document: number };
  conversations: Map<number, Conversation>;
  messages: Map<number, Message>;
  prompts: Map<number, Prompt>;
  documents: Map<number, ChatDocument & { bytes: number }>;
  /** batch_id → the conversation numbers that batch created. */
  batches: Map<string, number[]>;
}

/** What the fake model answers: deterministic, so tests can expect it byte for byte. */
export const fakeAnswer = (question: string) => `You said: ${question}`;

/** The answer split into the tokens the stream sends (each word with its following space). */
export const fakeTokens = (answer: string) => answer.match(/\S+\s*|\s+/g) ?? [];

export interface AiTurn {
  userMessageId: number;
  botMessageId: number;
  conversationId: number;
  tokens: string[];
}

export function page<T>(items: T[], q: { limit?: number; offset?: number }): { items: T[]; total_count: number } {
  const offset = q.offset ?? 0;
  return {
    items: items.slice(offset, q.limit === undefined ? undefined : offset + q.limit),
    total_count: items.length,
  };
}
