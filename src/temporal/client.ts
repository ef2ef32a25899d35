import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { AesGcmPayloadCodec } from './codec';

export interface TemporalHandle {
  connection: Connection;
  client: Client;
  codec: AesGcmPayloadCodec;
}

/** The API's Temporal client; the same codec as the worker, so every payload it sends is encrypted. */
export async function connectTemporal(
  config: Config,
  codec = AesGcmPayloadCodec.fromConfig(config.TEMPORAL_CODEC_KEYS),
): Promise<TemporalHandle> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: '5s' });
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: { payloadCodecs: [codec] },
  });
  return { connection, client, codec };
}
