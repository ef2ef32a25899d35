/**
 * The chat-service fake as a process, for demos and manual tests:
 * `npm run build:fakes && node dist/fakes/chat/main.js`. Reads the gateway's chat settings
 * (CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS, CHAT_UI_*_TOPIC, CHAT_SERVICE_RESPONSES_TOPIC,
 * CHAT_SERVICE_EVENTS_TOPIC) and optional switches CHAT_FAKE_DELAY_MS, CHAT_FAKE_TOKEN_DELAY_MS,
 * CHAT_FAKE_ERROR, CHAT_FAKE_SILENT, CHAT_FAKE_DUPLICATE_REPLIES, CHAT_FAKE_SHUFFLE_CHUNKS,
 * CHAT_FAKE_VARIANCE (nulls, digit-string ids and unknown fields in every reply).
 */
import { loadConfigOrExit } from '../../src/config';
import { chatTopics } from '../../src/chat/operations';
import { createLogger } from '../../src/logger';
import { ChatServiceFake } from './service';

const flag = (name: string) => ['1', 'true', 'yes', 'on'].includes((process.env[name] ?? '').toLowerCase());
const ms = (name: string) => Number(process.env[name] ?? 0) || 0;

async function main() {
  const config = loadConfigOrExit();
  const logger = createLogger(config.LOG_LEVEL, { service: 'chat-service-fake' });
  const topics = chatTopics(config);
  const create = () =>
    new ChatServiceFake({
      brokers: config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS,
      topics: { requests: Object.values(topics.requests), responses: topics.responses, events: topics.events },
      logger,
      groupId: process.env.CHAT_FAKE_GROUP_ID ?? 'chat-service-fake',
      switches: {
        delayMs: ms('CHAT_FAKE_DELAY_MS'),
        tokenDelayMs: ms('CHAT_FAKE_TOKEN_DELAY_MS') || 30,
        error: process.env.CHAT_FAKE_ERROR || null,
        silent: flag('CHAT_FAKE_SILENT'),
        duplicateReplies: flag('CHAT_FAKE_DUPLICATE_REPLIES'),
        shuffleChunks: flag('CHAT_FAKE_SHUFFLE_CHUNKS'),
        variance: flag('CHAT_FAKE_VARIANCE'),
      },
    });
  // Waits for the broker like a real service would (e.g. started together with it).
  let fake = create();
  for (let delay = 500; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      await fake.start();
      break;
    } catch (err) {
      logger.warn({ err: String(err), retry_in_ms: delay }, 'chat-service fake cannot reach Kafka yet');
      await fake.stop().catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      fake = create();
    }
  }
  logger.info({ brokers: config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS, topics }, 'chat-service fake listening');
  const stop = () => {
    fake.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`chat-service fake failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
