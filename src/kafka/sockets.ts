import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/** kafkajs' default: a plain TCP socket with keep-alive (this gateway does not use TLS to Kafka). */
const plainSocket: ISocketFactory = ({ host, port, onConnect }) =>
  net.connect({ host, port }, onConnect).setKeepAlive(true, 60_000);

/** Socket errors that mean the broker is not there (any more): refused, reset, unreachable. */
const BROKER_GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/**
 * The sockets of one kafkajs client, so the ones its disconnect() misses can be ended. kafkajs keeps
 * the group coordinator a consumer found before a broker restart outside its broker pool: a
 * heartbeat reopens that broker's connection, and disconnect() never closes it.
 */
export class KafkaSockets {
  private readonly open = new Set<net.Socket>();

  constructor(
    private readonly inner: ISocketFactory = plainSocket,
    /** Told when a connection is refused or broken (kafkajs only notices on its next request). */
    private readonly onBrokerGone?: () => void,
  ) {}

  readonly factory: ISocketFactory = (args) => {
    const socket = this.inner(args);
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    // kafkajs keeps its own error listener; this one only observes.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code && BROKER_GONE.has(err.code)) this.onBrokerGone?.();
    });
    return socket;
  };

  /** Ends every socket still open: only once all clients of the kafkajs instance are disconnected. */
  endAll(): number {
    const count = this.open.size;
    // As if the broker had closed it: kafkajs' own handler rejects what is in flight, stops the
    // connection's request-timeout interval and ends the socket (destroy() alone leaves the interval).
    for (const socket of this.open) socket.emit('end');
    this.open.clear();
    return count;
  }
}
