import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { ChatRequestReply } from '../../src/chat/request-reply';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { chatTestConfig, deleteChatTopics } from '../support/chat-fake';
import { stackService, waitFor } from '../support/stack';

jest.setTimeout(120_000);

/**
 * Issue 14: after the broker restarts under a running client, kafkajs' consumer keeps heartbeating
 * through a coordinator outside its broker pool; close() must still end every socket it opened
 * (a socket left open keeps the process alive and the broker connection up).
 */
describe('chat client closed after a Kafka restart', () => {
  let config: Config;

  beforeAll(async () => {
    config = await chatTestConfig({}, 'restart');
  });

  afterAll(async () => {
    await stackService('start', 'kafka');
    await deleteChatTopics(config);
  });

  it('leaves no socket to the broker open', async () => {
    const sockets: net.Socket[] = [];
    const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
      const socket = net.connect({ host, port }, onConnect);
      sockets.push(socket);
      return socket;
    };
    const chat = new ChatRequestReply({ config, logger: createLogger('silent'), socketFactory });
    try {
      await chat.whenReady(20_000);
      await stackService('stop', 'kafka');
      await waitFor('the link is down', async () => (chat.isReady ? undefined : true));
      await stackService('start', 'kafka');
      await chat.whenReady(60_000);
      // Through a few heartbeats (every 3 s): they reach the group coordinator found before the restart.
      await new Promise((r) => setTimeout(r, 7_000));
    } finally {
      await chat.close();
    }
    const open = await waitFor(
      'every socket closed',
      async () => (sockets.every((s) => s.destroyed) ? [] : undefined),
      10_000,
    ).catch(() => sockets.filter((s) => !s.destroyed).map((s) => `local port ${s.localPort}`));
    expect(open).toEqual([]);
  });
});
