import type { ProducerBatch } from 'kafkajs';
import { loadConfig } from '../../src/config';
import { AccessEventPublisher } from '../../src/events/access-events';
import type { RelayProducer } from '../../src/events/relay';
import { createLogger } from '../../src/logger';

/** A producer that fails while `down` and otherwise acknowledges each batch after `ackMs`. */
function fakeKafka(ackMs = 2) {
  const state = { down: false, sent: 0 };
  const producer = (): RelayProducer => ({
    connect: async () => {
      if (state.down) throw new Error('connect ECONNREFUSED');
    },
    disconnect: async () => undefined,
    sendBatch: async (batch: ProducerBatch) => {
      await new Promise((r) => setTimeout(r, ackMs));
      if (state.down) throw new Error('connect ECONNREFUSED');
      state.sent += batch.topicMessages!.reduce((n, t) => n + t.messages.length, 0);
      return [];
    },
  });
  return { state, producer };
}

function publisher(threshold: number, kafka: ReturnType<typeof fakeKafka>) {
  const returns: number[] = [];
  const config = loadConfig({
    ACCESS_EVENTS_RETURN_MEMORY_AFTER: String(threshold),
    ACCESS_EVENTS_LINGER_MS: '1',
  });
  const p = new AccessEventPublisher({
    config,
    logger: createLogger('silent'),
    producer: kafka.producer,
    returnMemory: () => (returns.push(Date.now()), 1),
  });
  const publish = (n: number) => {
    for (let i = 0; i < n; i += 1) p.publish('user_info_requested', { user_id: 'u' }, `r${i}`, 'u', null);
  };
  return { p, publish, returns };
}

const until = async (what: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Once a backlog from a Kafka outage is sent, freed memory is returned once (docs/adr/0016). */
describe('AccessEventPublisher: memory after a backlog', () => {
  it('returns memory once after a backlog is sent, though events keep arriving while it drains', async () => {
    const kafka = fakeKafka();
    const { p, publish, returns } = publisher(1_000, kafka);
    kafka.state.down = true;
    publish(3_000);
    await new Promise((r) => setTimeout(r, 300)); // a few failed sends
    kafka.state.down = false;
    // Steady load while the backlog drains: the buffer is never empty right after a send.
    const load = setInterval(() => publish(5), 1);
    try {
      await until(() => kafka.state.sent >= 3_000 && returns.length > 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(returns).toHaveLength(1);
    } finally {
      clearInterval(load);
      await p.close();
    }
  });

  it('does nothing without an outage, or for a backlog under the threshold', async () => {
    const steady = fakeKafka();
    const a = publisher(1_000, steady);
    a.publish(3_000);
    await until(() => steady.state.sent >= 3_000);
    const small = fakeKafka();
    const b = publisher(1_000, small);
    small.state.down = true;
    b.publish(500);
    await new Promise((r) => setTimeout(r, 300));
    small.state.down = false;
    await until(() => small.state.sent >= 500);
    await new Promise((r) => setTimeout(r, 100));
    expect([a.returns.length, b.returns.length]).toEqual([0, 0]);
    await a.p.close();
    await b.p.close();
  });

  it('never returns memory when ACCESS_EVENTS_RETURN_MEMORY_AFTER is 0', async () => {
    const kafka = fakeKafka();
    const { p, publish, returns } = publisher(0, kafka);
    kafka.state.down = true;
    publish(3_000);
    await new Promise((r) => setTimeout(r, 300));
    kafka.state.down = false;
    await until(() => kafka.state.sent >= 3_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(returns).toHaveLength(0);
    await p.close();
  });
});
