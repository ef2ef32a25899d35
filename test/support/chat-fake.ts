import type { Admin } from 'kafkajs';
import type { DestinationStream } from 'pino';
import { request } from 'undici';
import type { Config } from '../../src/config';
import { CHAT_MAX_MESSAGE_BYTES } from '../../src/chat/limits';
import { chatTopics } from '../../src/chat/operations';
import { ChatServiceFake, type ChatFakeSwitches } from '../../fakes/chat';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { startAuthFake, type AuthFake } from './auth-fake';
import { call, startGateway, type CallOptions, type Res, type RunningGateway } from './gateway';
import { testConfig, uniqueSuffix } from './stack';

export { ChatServiceFake, DEFAULT_SWITCHES } from '../../fakes/chat';
export { fakeAnswer, fakeTokens } from '../../fakes/chat';

/** Topic overrides unique to one test file, so concurrent files never read each other's messages. */
export function chatTopicOverrides(prefix = 'test'): Record<string, string> {
  const s = `${prefix}-${uniqueSuffix()}`;
  return {
    CHAT_UI_CONVERSATIONS_TOPIC: `${s}-conversations`,
    CHAT_UI_MESSAGES_TOPIC: `${s}-messages`,
    CHAT_UI_AI_CONVERSATION_TOPIC: `${s}-ai`,
    CHAT_UI_GEN_TITLE_TOPIC: `${s}-gen-title`,
    CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC: `${s}-upload`,
    CHAT_UI_PROMPTS_TOPIC: `${s}-prompts`,
    CHAT_UI_DOCUMENTS_TOPIC: `${s}-documents`,
    CHAT_UI_SETTINGS_TOPIC: `${s}-settings`,
    CHAT_SERVICE_RESPONSES_TOPIC: `${s}-responses`,
    CHAT_SERVICE_EVENTS_TOPIC: `${s}-events`,
  };
}

function allTopics(config: Config): string[] {
  const t = chatTopics(config);
  return [...Object.values(t.requests), t.responses, t.events];
}

async function withChatAdmin(config: Config, use: (admin: Admin) => Promise<unknown>): Promise<void> {
  const admin = createKafka(
    config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS,
    'test-chat-admin',
    createLogger('silent'),
  ).admin();
  await admin.connect();
  try {
    await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates the chat topics up front (auto-creation would add latency to the first message). */
export async function createChatTopics(config: Config): Promise<void> {
  await withChatAdmin(config, (admin) =>
    admin.createTopics({
      topics: allTopics(config).map((topic) => ({
        topic,
        numPartitions: 3,
        configEntries: [{ name: 'max.message.bytes', value: String(CHAT_MAX_MESSAGE_BYTES) }],
      })),
      waitForLeaders: true,
    }),
  );
}

export async function deleteChatTopics(config: Config): Promise<void> {
  await withChatAdmin(config, (admin) => admin.deleteTopics({ topics: allTopics(config) }).catch(() => undefined));
}

/** A config with this file's own chat topics (created), plus any overrides. */
export async function chatTestConfig(overrides: Record<string, string> = {}, prefix = 'chat'): Promise<Config> {
  const config = testConfig({ ...chatTopicOverrides(prefix), ...overrides });
  await createChatTopics(config);
  return config;
}

/** Starts the chat-service fake on the config's brokers and topics. */
export async function startChatFake(
  config: Config,
  switches: Partial<ChatFakeSwitches> = {},
  groupId = `chat-fake-${uniqueSuffix()}`,
): Promise<ChatServiceFake> {
  const t = chatTopics(config);
  const fake = new ChatServiceFake({
    brokers: config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS,
    topics: { requests: Object.values(t.requests), responses: t.responses, events: t.events },
    logger: createLogger('silent'),
    groupId,
    fromBeginning: true,
    switches,
  });
  await fake.start();
  return fake;
}

export interface ChatStack {
  config: Config;
  fake: ChatServiceFake;
  auth: AuthFake;
  gw: RunningGateway;
  /** Signs a new user up at the auth fake; returns its token and user id. */
  signUp(name?: string): Promise<{ token: string; sub: string; email: string }>;
  /** `call` (support/gateway.ts) against this stack's gateway. */
  call(method: string, path: string, opts?: CallOptions): Promise<Res>;
  /**
   * Stops the chat fake (its streams stop mid-way) and starts a new one in the same group: it
   * resumes after what the old one read, knowing nothing of its streams.
   */
  restartFake(): Promise<void>;
  close(): Promise<void>;
}

/** Chat topics of its own, the chat fake, the auth fake and a gateway verifying the fake's tokens. */
export async function startChatStack(
  overrides: Record<string, string> = {},
  switches: Partial<ChatFakeSwitches> = {},
  logDestination?: DestinationStream,
): Promise<ChatStack> {
  const auth = await startAuthFake({ port: 0 });
  const config = await chatTestConfig({
    AUTH_SERVICE_URL: auth.url,
    AUTH_JWKS_URL: auth.jwksUrl,
    AUTH_ISSUER: auth.issuer,
    COOKIE_SECURE: 'false',
    ...overrides,
  });
  const groupId = `chat-fake-${uniqueSuffix()}`;
  const fake = await startChatFake(config, switches, groupId);
  const gw = await startGateway(config, undefined, logDestination);
  await gw.deps.chat.whenReady(20_000);
  const stack: ChatStack = {
    config,
    fake,
    auth,
    gw,
    async signUp(name = 'Chat User') {
      const email = `chat-${uniqueSuffix()}@example.test`;
      const res = await request(`${auth.url}/v1/client/sign-up`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'password-123', full_name: name }),
      });
      const body = (await res.body.json()) as { access_token: string };
      if (res.statusCode !== 201) throw new Error(`sign-up failed: ${res.statusCode}`);
      const sub = (JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as { sub: string })
        .sub;
      return { token: body.access_token, sub, email };
    },
    call: (method, path, opts) => call(gw.url, method, path, opts),
    async restartFake() {
      await stack.fake.stop();
      stack.fake = await startChatFake(config, {}, groupId);
    },
    async close() {
      await gw.close();
      await stack.fake.stop();
      await auth.close();
      await deleteChatTopics(config);
    },
  };
  return stack;
}

/**
 * Chat-service errors (chat-kafka.md: `{code, message}` or the old plain strings) and what the
 * gateway answers for each: status, code and the detail a client sees (never an internal message).
 */
export const CHAT_ERROR_ANSWERS: [ChatFakeSwitches['error'] & {}, number, string, string][] = [
  [{ code: 'not_found', message: 'Conversation 9 not found' }, 404, 'not_found', 'Conversation 9 not found'],
  [{ code: 'validation_error', message: 'topic: required' }, 422, 'validation_error', 'topic: required'],
  [{ code: 'forbidden', message: 'Not yours' }, 403, 'forbidden', 'Not yours'],
  [{ code: 'conflict', message: 'Exists' }, 409, 'conflict', 'Exists'],
  [
    { code: 'unavailable', message: 'db down at 10.0.0.7' },
    503,
    'upstream_unavailable',
    'The chat service is unavailable',
  ],
  [{ code: 'internal', message: 'Traceback: secret' }, 502, 'upstream_error', 'The chat service failed'],
  ['Internal error: Conversation matching query not found', 404, 'not_found', 'Not found'],
  ['Internal error: Conversation not found', 404, 'not_found', 'Not found'],
  ['Internal error: division by zero', 502, 'upstream_error', 'The chat service failed'],
  ['Internal error: KeyError secret', 502, 'upstream_error', 'The chat service failed'],
];
