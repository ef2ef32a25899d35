import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { pushBounded } from '../../src/lib/bounded-map';

/** `'refuse'`: the listener is closed, so connecting fails. `'503'`: every request answers 503. */
export type DownMode = 'refuse' | '503';

/** Calls a fake remembers for its tests (the newest; a long-running fake must not grow forever). */
const MAX_LOGGED_CALLS = 50_000;

export function recordCall<T>(calls: T[], call: T): T {
  pushBounded(calls, call, MAX_LOGGED_CALLS);
  return call;
}

/**
 * A fake's HTTP listener that a test can take down and bring back on the same port; the fake
 * answers 503 itself while `down` is `'503'`.
 */
export class SwitchableListener {
  down: DownMode | null = null;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    private boundPort: number,
  ) {}

  /** Listens on `port` (0 = an ephemeral one, kept across `setDown`). */
  static async start(server: Server, host: string, port: number): Promise<SwitchableListener> {
    const listener = new SwitchableListener(server, host, port);
    await listener.listen();
    const address = server.address();
    listener.boundPort = typeof address === 'object' && address ? address.port : port;
    return listener;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  async setDown(isDown: boolean, mode: DownMode = 'refuse'): Promise<void> {
    this.down = isDown ? mode : null;
    if (this.down === 'refuse') await this.stopListening();
    else if (!this.server.listening) await this.listen();
  }

  async close(): Promise<void> {
    this.down = null;
    await this.stopListening();
  }

  private listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.host, port: this.boundPort }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private async stopListening(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    // Give clients a moment to see their pooled connections end, so their next request opens a
    // new connection (and is refused) instead of failing on a half-closed socket.
    await sleep(20);
  }
}
