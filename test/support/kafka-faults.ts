import { connect } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/** Kafka protocol API keys of the requests the fault tests name. */
export const KAFKA_API = { Produce: 0, ListOffsets: 2, InitProducerId: 22 } as const;

/**
 * A kafkajs socket factory at the network boundary: it sees the API key of every request a client
 * writes (kafkajs writes each request whole, size-prefixed, in one write) and, while a fault is on,
 * cuts the connection instead of sending that request, as a broker going away under it would.
 */
export function faultySockets() {
  const seen: number[] = [];
  let cutAt = new Set<number>();
  let cuts = 0;
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = (chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk) && chunk.length >= 6) {
        const apiKey = chunk.readInt16BE(4);
        seen.push(apiKey);
        if (cutAt.has(apiKey)) {
          cuts += 1;
          socket.destroy(new Error(`injected fault: connection cut before API key ${apiKey}`));
          return false;
        }
      }
      return write(chunk, ...rest);
    };
    return socket;
  };
  return {
    factory,
    /** API keys of every request written so far, in order. */
    seen,
    /** How many requests were cut. */
    get cuts() {
      return cuts;
    },
    /** From now on, cut the connection instead of sending a request with one of these API keys. */
    cut(...apiKeys: number[]) {
      cutAt = new Set(apiKeys);
    },
    heal() {
      cutAt = new Set();
    },
  };
}
