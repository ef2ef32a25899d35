import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCODING, METADATA_ENCODING } from '../../src/temporal/codec';
import type { Config } from '../../src/config';

const isPayload = (v: unknown): v is Payload =>
  typeof v === 'object' && v !== null && 'metadata' in v && 'data' in (v as object);

/**
 * A workflow's whole history as an operator holding the codec key sees it (Temporal UI with the
 * codec endpoint): every payload decoded with the codec, the rest as it is, in one JSON text.
 * Also counts the payloads that were encrypted, so a test can tell it decoded something.
 */
export async function decodedHistoryText(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_CODEC_KEYS'>,
  workflowId: string,
): Promise<{ text: string; decoded: number }> {
  const codec = AesGcmPayloadCodec.fromConfig(config.TEMPORAL_CODEC_KEYS);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    let decoded = 0;
    const visit = async (v: unknown): Promise<unknown> => {
      if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
      if (Array.isArray(v)) return Promise.all(v.map(visit));
      if (isPayload(v)) {
        const encoding = v.metadata?.[METADATA_ENCODING];
        const encrypted = encoding && Buffer.from(encoding).toString() === ENCODING;
        const [plain] = encrypted ? await codec.decode([v]) : [v];
        if (encrypted) decoded += 1;
        return { metadata: await visit(plain!.metadata), data: Buffer.from(plain!.data ?? []).toString('utf8') };
      }
      if (typeof v === 'object' && v !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = await visit(x);
        return out;
      }
      return v;
    };
    return { text: JSON.stringify(await visit(history)), decoded };
  } finally {
    await connection.close();
  }
}
