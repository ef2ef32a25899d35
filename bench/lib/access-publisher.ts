import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/**
 * The access-event publisher of a gateway build (`dist`, or a copy made from another commit), as
 * bench/access-buffer.ts and bench/access-cpu.ts drive it: `read()` publishes one
 * `user_info_requested` in the form that build takes, and `requestId()` makes request ids as that
 * build does.
 */
export interface BuildPublisher {
  read(user: string, requestId: string, ip: string): void;
  requestId: () => string;
  readonly pending: number;
  close(): Promise<void>;
}

interface Publisher {
  publish(...args: unknown[]): void;
  pending: number;
  close(): Promise<void>;
}

type Log = (...args: unknown[]) => void;

export function buildPublisher(
  build: string,
  options: {
    bootstrap: string[];
    clientId: string;
    buffer: number;
    lingerMs: number;
    drainTimeoutMs?: number;
    warn?: Log;
  },
): BuildPublisher {
  /* eslint-disable @typescript-eslint/no-require-imports */
  require(join(build, 'src/kafka/fixes'));
  const { AccessEventPublisher } = require(join(build, 'src/events/access-events')) as {
    AccessEventPublisher: new (options: object) => Publisher;
  };
  // Request ids as the build makes them (src/lib/uuid.ts; builds before it used crypto.randomUUID).
  let requestId: () => string = randomUUID;
  try {
    requestId = (require(join(build, 'src/lib/uuid')) as { randomUuid: () => string }).randomUuid;
  } catch {
    // an older build
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
  const quiet = () => undefined;
  const warn = options.warn ?? quiet;
  const logger = { child: () => logger, debug: quiet, info: quiet, warn, error: warn };
  const publisher = new AccessEventPublisher({
    config: {
      KAFKA_BOOTSTRAP_SERVERS: options.bootstrap,
      KAFKA_CLIENT_ID: options.clientId,
      KAFKA_AUTH_EVENTS_TOPIC: 'auth-events',
      KAFKA_USER_EVENTS_TOPIC: 'user-events',
      KAFKA_ORGANIZATION_EVENTS_TOPIC: 'organization-events',
      ACCESS_EVENTS_BUFFER: options.buffer,
      ACCESS_EVENTS_LINGER_MS: options.lingerMs,
    },
    logger,
    ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
  });
  const eventType = 'user_info_requested';
  return {
    read(user, id, ip) {
      const data = { user_id: user };
      // Builds before the flat queue took one input object with an actor.
      if (publisher.publish.length === 1)
        publisher.publish({ eventType, data, requestId: id, actor: { user_id: user, ip } });
      else publisher.publish(eventType, data, id, user, ip);
    },
    requestId,
    get pending() {
      return publisher.pending;
    },
    close: () => publisher.close(),
  };
}
