import { connect } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { ChatRequestReply } from '../../src/chat/request-reply';
import { createLogger } from '../../src/logger';
import { testConfig, waitFor } from '../support/stack';

/**
 * A gateway closed while Kafka is unreachable must stop trying: kafkajs retries a connect for as
 * long as its retry policy allows (minutes), and a retry timer left behind keeps the process alive.
 */
describe('chat client closed while its broker is unreachable', () => {
  it('stops connecting once closed', async () => {
    let attempts = 0;
    const factory: ISocketFactory = ({ host, port, onConnect }) => {
      attempts += 1;
      return connect({ host, port }, onConnect);
    };
    // Port 9 (discard) is closed on loopback: every connect is refused at once.
    const config = testConfig({ CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9' });
    const chat = new ChatRequestReply({ config, logger: createLogger('silent'), socketFactory: factory });
    chat.start();
    await waitFor('a few refused connects', async () => attempts >= 3, 10_000, 50);

    await chat.close();
    const atClose = attempts;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // OUTAGE_RETRY retries every 100-500 ms: two seconds of them would have shown here.
    expect(attempts).toBe(atClose);
  });
});
