import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { DropLog, MAX_REMEMBERED_DROPS } from '../../src/chat/drop-log';
import { createChatMetrics } from '../../src/chat/metrics';
import { HttpError } from '../../src/errors';
import { neverSent, PendingCalls, REMEMBERED_ANSWERED, REMEMBERED_UNANSWERED } from '../../src/chat/pending';
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

  it('remembers only the last end of an id, in either order', () => {
    const pending = calls();
    pending.remember('r', 'expired');
    pending.remember('r', 'answered');
    pending.remember('s', 'answered');
    pending.remember('s', 'expired');
    expect([pending.endedAs('r'), pending.endedAs('s')]).toEqual(['answered', 'expired']);
  });

  it('does not remember a call whose sends never reached the producer, but one that may have', async () => {
    const pending = calls();
    const unavailable = () => new HttpError('upstream_unavailable', 'The chat service cannot be reached right now');
    const a = pending.wait('never', 'chat_get_conversations', 10_000, Promise.reject(neverSent(unavailable())));
    const b = pending.wait('maybe', 'chat_get_conversations', 10_000, Promise.reject(unavailable()));
    await expect(a).rejects.toMatchObject({ status: 503 });
    await expect(b).rejects.toMatchObject({ status: 503 });
    expect([pending.endedAs('never'), pending.endedAs('maybe')]).toEqual([undefined, 'failed']);
  });

  it('remembers a failed call when an earlier try of its id was sent', async () => {
    const pending = calls();
    const first = pending.wait('r', 'chat_get_conversations', 10_000, Promise.resolve());
    await Promise.resolve();
    const retry = pending.wait(
      'r',
      'chat_get_conversations',
      10_000,
      Promise.reject(neverSent(new HttpError('upstream_unavailable', 'down'))),
    );
    await expect(first).rejects.toMatchObject({ status: 503 });
    await expect(retry).rejects.toMatchObject({ status: 503 });
    expect(pending.endedAs('r')).toBe('failed');
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

  it('logs each reason and id once, at debug for unknown ids and warn otherwise', async () => {
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

  it('remembers at most MAX_REMEMBERED_DROPS drops per level; an id that keeps coming stays logged once', async () => {
    const { log, lines } = logTo('warn');
    for (let i = 0; i < 2 * MAX_REMEMBERED_DROPS; i += 1) {
      log.record('late', 'chatty');
      log.record('duplicate', `d${i}`);
    }
    await flushed();
    expect(log.remembered).toBe(MAX_REMEMBERED_DROPS);
    expect(lines.filter((l) => l.request_id === 'chatty')).toHaveLength(1);
  });

  it("keeps warnings' ids apart from other instances' ids at debug", async () => {
    const { log, lines } = logTo('debug');
    log.record('late', 'mine');
    for (let i = 0; i < MAX_REMEMBERED_DROPS + 10; i += 1) log.record('unknown', `other-${i}`);
    log.record('late', 'mine');
    await flushed();
    expect(lines.filter((l) => l.request_id === 'mine')).toHaveLength(1);
  });
});
