import { brokers, integer, topic, v } from './parse';

/** The chat service over Kafka: brokers, topics, deadlines and stream limits. */
export const CHAT = {
  CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS: v(
    'kafka:29092',
    brokers,
    'Brokers of the chat service (may differ from the event brokers)',
  ),
  CHAT_SERVICE_RESPONSES_TOPIC: v('chat-service-responses', topic, 'Replies and stream chunks from the chat service'),
  CHAT_SERVICE_EVENTS_TOPIC: v('chat-service-events', topic, "The chat service's own events"),
  CHAT_UI_CONVERSATIONS_TOPIC: v('chat-ui-conversations', topic, 'Conversation operations'),
  CHAT_UI_MESSAGES_TOPIC: v('chat-ui-messages', topic, 'Message operations'),
  CHAT_UI_AI_CONVERSATION_TOPIC: v('chat-ui-ai-conversation', topic, 'AI chat (streamed) and chat_cancel'),
  CHAT_UI_GEN_TITLE_TOPIC: v('chat-ui-gen-title', topic, 'Title generation'),
  CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC: v('chat-ui-upload-conversations', topic, 'Conversation import batches'),
  CHAT_UI_PROMPTS_TOPIC: v('chat-ui-prompts', topic, 'Prompt operations'),
  CHAT_UI_DOCUMENTS_TOPIC: v('chat-ui-documents', topic, 'Document operations'),
  CHAT_UI_SETTINGS_TOPIC: v('chat-ui-settings', topic, 'Settings'),
  CHAT_REQUEST_TIMEOUT_MS: v('15000', integer(100, 600_000), 'Deadline of one chat request/reply'),
  CHAT_GEN_TITLE_TIMEOUT_MS: v('60000', integer(100, 600_000), 'Deadline of title generation'),
  CHAT_STREAM_IDLE_TIMEOUT_MS: v(
    '60000',
    integer(100, 600_000),
    'Longest silence inside an AI answer stream (before its first chunk: see CHAT_STREAM_STALL_TIMEOUT_MS)',
  ),
  CHAT_STREAM_STALL_TIMEOUT_MS: v(
    '20000',
    integer(0, 600_000),
    'Longest silence once an AI answer stream has sent a chunk (a chat service that went away); then an SSE error. 0 = only the idle timeout',
  ),
  CHAT_UPLOAD_BATCH_SIZE: v('50', integer(1, 1000), 'Conversations per import batch'),
  CHAT_STREAM_GAP_TIMEOUT_MS: v(
    '5000',
    integer(100, 600_000),
    'Longest wait for a missing chunk of an AI answer stream; then the stream ends with an SSE error',
  ),
  CHAT_STREAM_REORDER_MAX: v(
    '256',
    integer(1, 100_000),
    'Chunks an AI answer stream holds past a missing one; more → the stream ends with an SSE error',
  ),
  SSE_WRITE_TIMEOUT_MS: v(
    '30000',
    integer(100, 600_000),
    'Longest wait for a slow SSE client to take a write; then the response ends and the chat request is cancelled',
  ),
} as const;
