import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { HttpError } from '../errors';
import { closeIfBodyPending } from './plugins/auth';

/**
 * Requests in progress, bounded per user and per process (in this process: every replica bounds
 * its own). Unlike a rate limit it counts what is open now, so a slot is free again as soon as
 * its response ends.
 */
export class ConcurrencyLimit {
  private total = 0;
  private readonly perUser = new Map<string, number>();

  constructor(
    private readonly userLimit: number,
    private readonly processLimit = Number.POSITIVE_INFINITY,
  ) {}

  /** Takes a slot for `user`: the function that gives it back, or which bound is reached. */
  acquire(user: string): (() => void) | 'user' | 'process' {
    const mine = this.perUser.get(user) ?? 0;
    if (mine >= this.userLimit) return 'user';
    if (this.total >= this.processLimit) return 'process';
    this.total += 1;
    this.perUser.set(user, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perUser.get(user) ?? 1) - 1;
      if (left > 0) this.perUser.set(user, left);
      else this.perUser.delete(user);
    };
  }

  /** Open requests of one user, and of the whole process. */
  inUse(user?: string): number {
    return user === undefined ? this.total : (this.perUser.get(user) ?? 0);
  }
}

export interface ConcurrencyHookOptions {
  /** What is limited, for the `detail`: "document uploads", "answer streams". */
  what: string;
  /** Seconds a refused client should wait (Retry-After). */
  retryAfterS: number;
}

/**
 * An onRequest hook (after authentication, before the body is read) that holds a slot until the
 * response ends or the connection drops: over the user's bound → 429 `rate_limited`, over the
 * process's → 503 `upstream_unavailable`, both with Retry-After.
 */
export function concurrencyHook(limit: ConcurrencyLimit, options: ConcurrencyHookOptions): onRequestAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const slot = limit.acquire(request.user!.sub);
    if (typeof slot === 'function') {
      reply.raw.once('close', slot);
      return;
    }
    closeIfBodyPending(request, reply);
    const headers = { 'retry-after': String(options.retryAfterS) };
    if (slot === 'user') {
      throw new HttpError('rate_limited', `Too many ${options.what} in progress for this user; try again later`, {
        headers,
      });
    }
    throw new HttpError('upstream_unavailable', `Too many ${options.what} in progress; try again later`, { headers });
  };
}
