// Before kafkajs: see src/kafka/fixes.ts.
import '../../src/kafka/fixes';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { Agent, request } from 'undici';
import { closedLoop, type LoopResult } from '../lib/load';
import type { Markdown } from '../lib/markdown';
import { compare, pick } from '../lib/measure';
import { P, RUN_ID } from '../lib/params';
import { cpuColumns, extraFigure, figure, peakRss, type Measurement } from '../lib/results';
import type { LoadPoint } from '../lib/rounds';
import type { Scenario } from '../lib/scenario';
import { Samples, summarise, type LatencySummary } from '../lib/stats';
import { CHAT_TOPIC_ENV, fakeUser, type World } from '../lib/world';

interface SseRun extends LoopResult {
  ttfb: LatencySummary;
  firstToken: LatencySummary;
  chunk: LatencySummary;
  chunksPerStream: number;
}
type Frames = { tag: string; at: number[] };
const VARIANT = 'POST /api/conversation/';
const WORDS = 'please answer this benchmark question with every word streamed back one token at a time';

/**
 * Replies as the chat fake sent them, read by a probe consumer: (request id, sequence) → the
 * record's producer timestamp (ms), and question tag → request id.
 */
async function replyProbe(w: World) {
  const kafka = new Kafka({
    clientId: `${RUN_ID}-sse-probe`,
    brokers: w.env.KAFKA_BOOTSTRAP_SERVERS!.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `${RUN_ID}-sse-probe`, maxWaitTimeInMs: 100, minBytes: 1 });
  const sentAt = new Map<string, number>();
  const requestOf = new Map<string, string>();
  const questions = CHAT_TOPIC_ENV.CHAT_UI_AI_CONVERSATION_TOPIC!;
  await consumer.connect();
  await consumer.subscribe({ topics: [CHAT_TOPIC_ENV.CHAT_SERVICE_RESPONSES_TOPIC!, questions], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const body = JSON.parse(message.value?.toString() ?? '{}') as {
        request_id?: string;
        sequence?: number;
        payload?: { message?: { content?: string }[] };
      };
      if (!body.request_id) return;
      if (topic === questions) {
        const tag = /\bq-\d+\b/.exec(body.payload?.message?.[0]?.content ?? '')?.[0];
        if (tag) requestOf.set(tag, body.request_id);
      } else if (body.sequence !== undefined)
        sentAt.set(`${body.request_id}/${body.sequence}`, Number(message.timestamp));
    },
  });
  return { sentAt, requestOf, close: () => consumer.disconnect() };
}

/** One stream, read frame by frame; every frame's arrival time is kept for the per-chunk latency. */
async function oneStream(
  w: World,
  token: string,
  dispatcher: Agent,
  tag: string,
  ttfb: Samples,
  firstToken: Samples,
): Promise<Frames> {
  const t0 = performance.now();
  const res = await request(`${w.gatewayUrl}/api/conversation/`, {
    method: 'POST',
    dispatcher,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-model', message: [{ content: `${tag} ${WORDS}` }] }),
  });
  const headersAt = performance.now();
  if (res.statusCode !== 200) throw new Error(`SSE answered ${res.statusCode}: ${await res.body.text()}`);
  const frames: Frames = { tag, at: [] };
  let buffer = '';
  let done = false;
  let first = true;
  for await (const chunk of res.body) {
    const now = performance.timeOrigin + performance.now();
    buffer += (chunk as Buffer).toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (\w+)/m.exec(frame)?.[1];
      if (!event) continue; // keep-alive comment
      frames.at.push(now);
      if (event === 'message' && first) {
        first = false;
        firstToken.push(now - performance.timeOrigin - t0);
      }
      if (event === 'error') throw new Error(`SSE error frame: ${frame}`);
      if (event === 'done') done = true;
    }
  }
  if (!done) throw new Error('SSE stream ended without a done frame');
  ttfb.push(headersAt - t0);
  return frames;
}

/** 4. The SSE answer stream: time to first byte, first token, and per-chunk latency from the chat fake's producer. */
async function run(w: World) {
  const user = await fakeUser(w, 'sse');
  const probe = await replyProbe(w);
  const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  let streams = 0;
  let collected: Frames[] = [];
  let ttfb = new Samples();
  let firstToken = new Samples();
  const stream = async () => {
    collected.push(await oneStream(w, user.token, dispatcher, `q-${(streams += 1)}`, ttfb, firstToken));
  };
  const sseRun = async (at: LoadPoint): Promise<SseRun> => {
    [collected, ttfb, firstToken] = [[], new Samples(), new Samples()];
    const loop = await closedLoop(stream, at.clients, at.sec * 1000);
    await sleep(1_500); // let the probe read the last replies
    const chunk = new Samples();
    let frames = 0;
    for (const s of collected) {
      const requestId = probe.requestOf.get(s.tag);
      s.at.forEach((at, seq) => {
        frames += 1;
        const sent = requestId ? probe.sentAt.get(`${requestId}/${seq}`) : undefined;
        if (sent !== undefined) chunk.push(at - sent);
      });
    }
    const chunksPerStream = collected.length ? frames / collected.length : 0;
    return {
      ...loop,
      ttfb: summarise(ttfb),
      firstToken: summarise(firstToken),
      chunk: summarise(chunk),
      chunksPerStream,
    };
  };
  try {
    await closedLoop(stream, 5, P.warmSec * 1000);
    await compare(w, {
      scenario: 'sse',
      variants: [
        {
          variant: VARIANT,
          load: sseRun,
          extra: (r: SseRun) => ({
            ttfbP50: r.ttfb.p50,
            ttfbP99: r.ttfb.p99,
            firstTokenP50: r.firstToken.p50,
            firstTokenP99: r.firstToken.p99,
            chunkP50: r.chunk.p50,
            chunkP99: r.chunk.p99,
            chunkN: r.chunk.n,
            chunksPerStream: r.chunksPerStream,
          }),
        },
      ],
      points: P.sseConc.map((clients) => ({ clients, sec: P.sseSec })),
    });
  } finally {
    await probe.close();
    await dispatcher.close();
  }
}

function report(md: Markdown) {
  md.line('### 4. SSE: POST /api/conversation/ (chat fake streams a token every 30 ms)');
  md.line();
  type Row = { c: number; rs: Measurement[] };
  const x = (key: string, digits: number) => (r: Row) => extraFigure(r.rs, key, digits);
  md.table<Row>(
    [
      ['streams at once', ({ c }) => c],
      ['streams/s', ({ rs }) => figure(rs, 'rps', 1)],
      ['TTFB p50 ms', x('ttfbP50', 2)],
      ['TTFB p99 ms', x('ttfbP99', 2)],
      ['first token p50 ms', x('firstTokenP50', 1)],
      ['first token p99 ms', x('firstTokenP99', 1)],
      ['per-chunk p50 ms', x('chunkP50', 1)],
      ['per-chunk p99 ms', x('chunkP99', 1)],
      ['chunks measured', ({ rs }) => rs.reduce((a, r) => a + (r.extra?.chunkN ?? 0), 0)],
      ...cpuColumns((r: Row) => r.rs, ['gateway', 'unattributed']),
      ['gateway peak RSS MB', ({ rs }) => peakRss(rs)],
    ],
    P.sseConc.map((c) => ({ c, rs: pick('sse', VARIANT, c) })).filter((r) => r.rs.length),
  );
  md.line();
  md.line(
    'Per-chunk latency: from the chat fake handing the chunk to its Kafka producer (the record timestamp) to the frame arriving at the client, same clock, 1 ms resolution.',
  );
  md.line();
}

export const sse: Scenario = { name: 'sse', run, report };
