import type { DestinationStream } from 'pino';
import type { ChatLink } from '../../src/chat/link';
import { ChatRequestReply } from '../../src/chat/request-reply';
import type { Config } from '../../src/config';
import { HttpError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { chatTestConfig, deleteChatTopics, startChatFake, type ChatServiceFake } from '../support/chat-fake';
import { KAFKA_API, faultySockets } from '../support/kafka-faults';
import { captureLog } from '../support/log-capture';
import { waitFor } from '../support/stack';

jest.setTimeout(90_000);

/**
 * Issue 17, item 9: Kafka faults the chat client must come back from without a restart, injected
 * at the network boundary of the real broker (a socket factory that cuts a connection instead of
 * sending a chosen request).
 */
describe('chat client under Kafka faults at the network boundary', () => {
  let config: Config;
  let fake: ChatServiceFake;
  const clients: ChatRequestReply[] = [];

  function client(sockets: ReturnType<typeof faultySockets>, logStream?: DestinationStream) {
    const logger = logStream ? createLogger('warn', {}, logStream) : createLogger('silent');
    const chat = new ChatRequestReply({ config, logger, socketFactory: sockets.factory });
    clients.push(chat);
    return chat;
  }

  beforeAll(async () => {
    config = await chatTestConfig({ CHAT_REQUEST_TIMEOUT_MS: '5000' }, 'faults');
    fake = await startChatFake(config);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await fake?.stop();
    await deleteChatTopics(config);
  });

  it('never takes a producer id, so OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID cannot occur', async () => {
    const sockets = faultySockets();
    const chat = client(sockets);
    await chat.whenReady(20_000);
    await expect(chat.request('chat_get_settings', {})).resolves.toMatchObject({ items: expect.any(Array) });
    // The broker checks sequences only for a producer id, which a producer gets with
    // InitProducerId (kafkajs sends it on connect when idempotent or transactional).
    expect(sockets.seen).toContain(KAFKA_API.Produce);
    expect(sockets.seen).not.toContain(KAFKA_API.InitProducerId);
  });

  it('fails only the call whose produce was cut off; the next call goes through on the same client', async () => {
    const sockets = faultySockets();
    const chat = client(sockets);
    await chat.whenReady(20_000);
    sockets.cut(KAFKA_API.Produce);
    const failed = await chat.request('chat_get_settings', {}).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(HttpError);
    expect((failed as HttpError).code).toBe('upstream_unavailable');
    expect(sockets.cuts).toBeGreaterThan(0);

    // Until the consumer fetches again (within ~100 ms) calls fail fast; then they go through.
    sockets.heal();
    await chat.whenReady(5_000);
    await expect(chat.request('chat_get_settings', {})).resolves.toMatchObject({ items: expect.any(Array) });
  });

  it('becomes ready after its offsets fetch on joining failed (a failed onJoin), and answers', async () => {
    const sockets = faultySockets();
    const log = captureLog();
    const chat = client(sockets, log.stream);
    // Every ListOffsets is cut: the reply consumer joins its group but cannot position itself.
    sockets.cut(KAFKA_API.ListOffsets);
    chat.start();
    await waitFor(
      'the reply consumer giving up on positioning itself',
      async () => log.text().includes('chat reply consumer could not position itself'),
      45_000,
    );
    expect(chat.isReady).toBe(false);

    sockets.heal();
    await chat.whenReady(20_000);
    await expect(chat.request('chat_get_settings', {})).resolves.toMatchObject({ items: expect.any(Array) });
  });

  it('rebuilds a reply consumer that stays out of its group without a crash event, and answers again', async () => {
    const log = captureLog();
    const logger = createLogger('warn', {}, log.stream);
    const chat = new ChatRequestReply({ config, logger, recoverAfterMs: 2_000 });
    clients.push(chat);
    chat.start();
    await chat.whenReady(20_000);
    // The chaos run saw a consumer whose rejoin after a broker restart never completed (JoinGroup
    // answered NOT_COORDINATOR, then COORDINATOR_LOAD_IN_PROGRESS) and no crash event came. That
    // state, as the client sees it: the group is lost and no join follows, while fetches go on.
    (chat as unknown as { connection: { link: ChatLink } }).connection.link.lost('test: the group was lost');
    expect(chat.isReady).toBe(false);
    await waitFor(
      'the watchdog rebuilding the reply consumer',
      async () => log.text().includes('chat reply consumer has not recovered; rebuilding it'),
      15_000,
    );
    await chat.whenReady(20_000);
    await expect(chat.request('chat_get_settings', {})).resolves.toMatchObject({ items: expect.any(Array) });
  });
});
