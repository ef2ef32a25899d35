import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AiMessageSchema, AiOptions, GeneratedTitle, PerUserId } from '../../../chat/schemas';
import { sendSse } from '../../../chat/sse';
import type { ChatStreamEvent } from '../../../chat/stream';
import { ConcurrencyLimit, concurrencyHook } from '../../concurrency-limit';
import { withErrors } from '../../schemas';
import { COMMON_ERRORS, USER, ask, requestMetadata } from './shared';

const AiConversationBody = Type.Object({
  name: Type.String({ description: 'Model name' }),
  message: Type.Array(AiMessageSchema, { minItems: 1 }),
  conversationId: Type.Optional(PerUserId),
  frugalMode: Type.Optional(Type.Boolean()),
  ...AiOptions,
});

const SseStream = Type.String({
  description:
    'text/event-stream: `event: userMessageId|message|done|error` frames with one-line JSON data ' +
    '({userMessageId}, {content}, {messageId, conversationId, newDocId}, {error}); a comment every 15 s',
});

/** A stream usually ends within seconds; an earlier retry would likely be refused again. */
const STREAM_RETRY_AFTER_S = 5;

/** The AI answer streamed as server-sent events, and the generated conversation title. */
const answerStreamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app;
  /** Open AI answer streams, ended when the server closes (they would otherwise hold shutdown up). */
  const openStreams = new Set<{ fail(message: string): void }>();
  // Each open stream holds a model run upstream: a per-user bound keeps one caller from taking them all.
  const streamsPerUser = new ConcurrencyLimit(config.CHAT_STREAMS_PER_USER);
  app.addHook('preClose', async () => {
    for (const s of openStreams) s.fail('The gateway is shutting down');
  });

  app.post(
    '/api/conversation/',
    {
      onRequest: concurrencyHook(streamsPerUser, { what: 'answer streams', retryAfterS: STREAM_RETRY_AFTER_S }),
      schema: {
        ...USER,
        summary: 'Ask the model; the answer streams back as server-sent events',
        body: AiConversationBody,
        response: withErrors(
          { 200: { content: { 'text/event-stream': { schema: SseStream } } } as never },
          401,
          422,
          429,
          503,
        ),
      },
    },
    async (request, reply) => {
      const { conversationId, frugalMode, ...rest } = request.body;
      const userContext = await app.userContext(request);
      // Before any SSE byte: a link that is down answers 503 + Retry-After like the other chat routes.
      await app.deps.chat.readyForCall();
      const stream = app.deps.chat.stream(
        'chat_ai_conversation',
        { ...rest, conversation_id: conversationId, frugal_mode: frugalMode },
        { userContext, requestMetadata: requestMetadata(request), idleTimeoutMs: config.CHAT_STREAM_IDLE_TIMEOUT_MS },
      );
      openStreams.add(stream);
      try {
        await sendSse(reply, stream as AsyncIterable<ChatStreamEvent>, {
          writeTimeoutMs: config.SSE_WRITE_TIMEOUT_MS,
          onClientGone: () => stream.cancel(),
        });
      } finally {
        openStreams.delete(stream);
      }
      return reply;
    },
  );

  app.post(
    '/api/gen_title/',
    {
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Generate a title for a conversation (long deadline: CHAT_GEN_TITLE_TIMEOUT_MS)',
        body: Type.Object({ conversationId: PerUserId, prompt: Type.Optional(Type.String()) }),
        response: withErrors({ 200: GeneratedTitle }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) =>
      ask(
        request,
        'chat_generate_title',
        { conversation_id: request.body.conversationId, prompt: request.body.prompt },
        { timeoutMs: config.CHAT_GEN_TITLE_TIMEOUT_MS },
      ),
  );
};

export default answerStreamRoutes;
