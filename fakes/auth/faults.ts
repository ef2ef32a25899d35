import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { recordCall, type DownMode } from '../shared/listener';
import type { AuthFakeCall, CallMatch, FailNextOptions } from './api';
import { varyAuthReply } from './variance';

interface PendingFailure {
  remaining: number;
  status: number | 'reset';
  options: FailNextOptions;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function matches(call: AuthFakeCall, match: CallMatch | undefined): boolean {
  if (!match) return true;
  if (match.method && match.method.toUpperCase() !== call.method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? match.path === call.path : match.path.test(call.path);
}

function failureBody(status: number, options: FailNextOptions): { body: string | object; type: string } {
  const body = options.body ?? STATUS_TEXT[status] ?? 'Error';
  const type = options.contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
  return { body, type };
}

/**
 * The auth fake's misbehaviour on demand, as Fastify hooks: the call log, 503 while down, delays,
 * failures (before or after the request takes effect) and the variance mode of its replies.
 */
export class AuthFaults {
  /** Every request received, oldest first (cleared in place). */
  readonly calls: AuthFakeCall[] = [];
  delay: { ms: number; match?: CallMatch } = { ms: 0 };
  private failures: PendingFailure[] = [];
  private readonly callOf = new WeakMap<FastifyRequest, AuthFakeCall>();
  private readonly lostAnswers = new WeakMap<FastifyRequest, PendingFailure>();

  constructor(
    private readonly down: () => DownMode | null,
    public variance: boolean,
  ) {}

  failNext(n: number, status: number | 'reset', options: FailNextOptions): void {
    if (n > 0) this.failures.push({ remaining: n, status, options });
  }

  /** No delay, no pending failures, no calls. */
  reset(variance: boolean): void {
    this.variance = variance;
    this.delay = { ms: 0 };
    this.failures = [];
    this.calls.length = 0;
  }

  install(app: FastifyInstance): void {
    app.addHook('onRequest', (request, reply) => this.onRequest(request, reply));
    app.addHook('onSend', async (request, reply, payload) =>
      this.variance ? varyAuthReply(request.url.split('?')[0]!, reply.statusCode, payload) : payload,
    );
    app.addHook('onSend', async (request, reply, payload) => this.loseAnswer(request, reply, payload));
    app.addHook('onResponse', async (request, reply) => {
      const call = this.callOf.get(request);
      if (call) call.status = reply.statusCode;
    });
  }

  private async onRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const call = recordCall<AuthFakeCall>(this.calls, {
      method: request.method,
      path: request.url.split('?')[0]!,
      url: request.url,
      time: Date.now(),
      headers: { ...request.headers },
    });
    this.callOf.set(request, call);
    if (this.down() === '503') {
      return reply.code(503).type('text/plain; charset=utf-8').send('Service Unavailable');
    }
    if (this.delay.ms > 0 && matches(call, this.delay.match)) await sleep(this.delay.ms);
    const failure = this.failures.find((f) => f.remaining > 0 && matches(call, f.options.match));
    if (!failure) return undefined;
    failure.remaining -= 1;
    this.failures = this.failures.filter((f) => f.remaining > 0);
    if (failure.options.afterHandling) {
      this.lostAnswers.set(request, failure);
      return undefined;
    }
    if (failure.status === 'reset') {
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    const { body, type } = failureBody(failure.status, failure.options);
    return reply.code(failure.status).type(type).send(body);
  }

  /** `afterHandling`: the request took effect; its answer becomes the failure. */
  private async loseAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const lost = this.lostAnswers.get(request);
    if (!lost) return payload;
    if (lost.status === 'reset') {
      request.raw.socket.destroy();
      return payload;
    }
    const { body, type } = failureBody(lost.status, lost.options);
    reply.code(lost.status).type(type);
    return typeof body === 'string' ? body : JSON.stringify(body);
  }
}
