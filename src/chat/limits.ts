/**
 * The largest chat message on Kafka. Documents may be 25 MiB (DOCUMENT_BODY_LIMIT_BYTES), and a
 * multipart upload becomes a base64 data URL, 4/3 of the file, inside the request envelope; 40 MiB
 * holds that with room to spare. The broker (`message.max.bytes`, `replica.fetch.max.bytes`), the
 * request topics (`max.message.bytes`) and every consumer's fetch sizes must allow it
 * (docs/chat-kafka-limits.md).
 */
export const CHAT_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
