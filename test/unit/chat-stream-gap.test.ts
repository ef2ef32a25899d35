import { ChatStream, GAP_MESSAGE, type ChatStreamEvent, type StreamEnd } from '../../src/chat/stream';
import type { ReplyEnvelope } from '../../src/chat/schemas';

const chunk = (sequence: number): ReplyEnvelope => ({
  request_id: 'r1',
  status: 'chunk',
  sequence,
  payload: { event: 'message', data: { content: `t${sequence}` } },
  error: null,
});

async function collect(stream: ChatStream): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

/** A stream whose only bound in reach is reorderMax (3); `ends` records how it ended. */
function reorderingStream(): { ends: StreamEnd[]; stream: ChatStream } {
  const ends: StreamEnd[] = [];
  const stream = new ChatStream('r1', {
    idleTimeoutMs: 600_000,
    gapTimeoutMs: 600_000,
    reorderMax: 3,
    onEnd: (r) => ends.push(r),
  });
  return { ends, stream };
}

describe('ChatStream reorder buffer', () => {
  it('ends with an error once more than reorderMax chunks wait past a missing one', async () => {
    const { ends, stream } = reorderingStream();
    stream.accept(chunk(0));
    for (const seq of [2, 3, 4]) stream.accept(chunk(seq));
    expect(stream.isEnded).toBe(false);
    stream.accept(chunk(5));
    expect(ends).toEqual(['gap']);
    expect(await collect(stream)).toEqual([
      { event: 'message', data: { content: 't0' } },
      { event: 'error', data: { error: GAP_MESSAGE } },
    ]);
  });

  it('keeps going when the missing chunk arrives before either bound', async () => {
    const { ends, stream } = reorderingStream();
    for (const seq of [1, 2, 3, 0]) stream.accept(chunk(seq));
    stream.accept({
      request_id: 'r1',
      status: 'success',
      sequence: 4,
      payload: { event: 'done', data: { messageId: 2, conversationId: 1, newDocId: null } },
      error: null,
    });
    expect(ends).toEqual(['completed']);
    const events = await collect(stream);
    expect(events.map((e) => e.event)).toEqual(['message', 'message', 'message', 'message', 'done']);
  });
});
