import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { DropLog, MAX_REMEMBERED_DROPS } from '../../src/chat/drop-log';
import { createChatMetrics } from '../../src/chat/metrics';
import { PendingCalls, REMEMBERED_ANSWERED, REMEMBERED_UNANSWERED } from '../../src/chat/pending';
import { createLogger } from '../../src/logger';

/** What the chat client keeps about replies it no longer waits for: bounded, and small under load. */
describe('PendingCalls: ended request ids', () => {
  const calls = () => new PendingCalls(createChatMetrics(new Registry()));

  it('remembers the last REMEMBERED_ANSWERED answered ids, to call a second reply a duplicate', () => {
    const pending = calls();
    for (let i = 0; i <= REMEMBERED_ANSWERED; i += 1) pending.remember(`a${i}`, 'answered');
    expect(pending.endedAs('a0')).toBeUndefined();
    expect(pending.endedAs('a1')).toBe('answered');
    expect(pending.endedAs(`a${REMEMBERED_ANSWERED}`)).toBe('answered');
  });

  it('keeps unanswered ids apart, so a stream of answers does not push them out', () => {
    const pending = calls();
    pending.remember('slow', 'expired');
    pending.remember('gone', 'cancelled');
    for (let i = 0; i < 3 * REMEMBERED_ANSWERED; i += 1) pending.remember(`a${i}`, 'answered');
    expect([pending.endedAs('slow'), pending.endedAs('gone')]).toEqual(['expired', 'cancelled']);
    for (let i = 0; i < REMEMBERED_UNANSWERED; i += 1) pending.remember(`x${i}`, 'failed');
    expect(pending.endedAs('slow')).toBeUndefined();
    expect(pending.endedAs('x0')).toBe('failed');
  });

  it('forgets how an id ended once it waits again, and remembers only its last end', async () => {
    const pending = calls();
    pending.remember('r', 'expired');
    const reply = pending.wait('r', 'chat_get_conversations', 10_000, Promise.resolve());
    expect(pending.endedAs('r')).toBeUndefined();
    pending.settle('r', { ok: true, value: 'v' }, 'answered');
    await expect(reply).resolves.toBe('v');
    expect(pending.endedAs('r')).toBe('answered');
  });
});

describe('DropLog', () => {
  function logTo(level: string) {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { log: new DropLog(createLogger(level, {}, sink)), lines };
  }
  const flushed = () => new Promise((resolve) => setImmediate(resolve));

  it("neither logs nor remembers other instances' replies unless debug is on", async () => {
    const { log, lines } = logTo('info');
    for (let i = 0; i < 5_000; i += 1) log.record('unknown', `other-${i}`);
    await flushed();
    expect([log.remembered, lines.length]).toEqual([0, 0]);
  });

  it('logs each reason and id once, at debug for unknown ids and warn otherwise, without a payload', async () => {
    const { log, lines } = logTo('debug');
    log.record('unknown', 'u1');
    log.record('unknown', 'u1');
    log.record('late', 'u1', { partition: 0 });
    log.record('late', 'u1');
    await flushed();
    expect(lines.map((l) => [l.level, l.reason, l.request_id, l.msg])).toEqual([
      ['debug', 'unknown', 'u1', 'chat reply dropped'],
      ['warn', 'late', 'u1', 'chat reply dropped'],
    ]);
    expect(lines[1]).toMatchObject({ partition: 0 });
  });

  it('remembers at most MAX_REMEMBERED_DROPS drops', () => {
    const { log } = logTo('warn');
    for (let i = 0; i < MAX_REMEMBERED_DROPS + 50; i += 1) log.record('duplicate', `d${i}`);
    expect(log.remembered).toBe(MAX_REMEMBERED_DROPS);
  });
});
