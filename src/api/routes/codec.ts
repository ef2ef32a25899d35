import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { safeEqual } from '../../security';

/** Temporal's remote-codec wire format: proto3 JSON of `Payloads` (bytes as base64). */
const JsonPayload = Type.Object({
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  data: Type.Optional(Type.String()),
});
const JsonPayloads = Type.Object({ payloads: Type.Array(JsonPayload, { maxItems: 10_000 }) });
type JsonPayloadsT = Static<typeof JsonPayloads>;

function fromJson(p: Static<typeof JsonPayload>): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): Static<typeof JsonPayload> {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * The codec endpoint Temporal UI (and `temporal --codec-endpoint`) call to show decrypted
 * payloads to operators. Allowed callers: the internal key, the CODEC_ENDPOINT_TOKEN bearer
 * token when one is configured, or a browser on a TEMPORAL_UI_ORIGINS origin.
 */
const codecRoutes: FastifyPluginAsync = async (app) => {
  const { config } = app;

  function authorize(request: FastifyRequest) {
    const internal = request.headers['x-internal-key'];
    if (typeof internal === 'string' && safeEqual(internal, config.INTERNAL_SERVICE_KEY)) return;
    const auth = request.headers.authorization;
    if (config.CODEC_ENDPOINT_TOKEN && typeof auth === 'string' && auth.startsWith('Bearer ')) {
      if (safeEqual(auth.slice(7), config.CODEC_ENDPOINT_TOKEN)) return;
    }
    const origin = request.headers.origin;
    if (typeof origin === 'string' && config.TEMPORAL_UI_ORIGINS.includes(origin)) return;
    throw new HttpError(
      'unauthorized',
      'Codec endpoint needs X-Internal-Key, the codec token, or a Temporal UI origin',
    );
  }

  const schema = (summary: string) => ({
    tags: ['operations'],
    summary,
    body: JsonPayloads,
    response: { 200: JsonPayloads },
    security: [{ internalKey: [] }],
  });

  app.post<{ Body: JsonPayloadsT }>(
    '/codec/encode',
    { schema: schema('Encrypt payloads (Temporal remote codec)') },
    async (request) => {
      authorize(request);
      const out = await app.deps.codec.encode(request.body.payloads.map(fromJson));
      return { payloads: out.map(toJson) };
    },
  );

  app.post<{ Body: JsonPayloadsT }>(
    '/codec/decode',
    { schema: schema('Decrypt payloads for Temporal UI') },
    async (request) => {
      authorize(request);
      try {
        const out = await app.deps.codec.decode(request.body.payloads.map(fromJson));
        return { payloads: out.map(toJson) };
      } catch {
        throw new HttpError('bad_request', 'Payload could not be decrypted with the configured keys');
      }
    },
  );
};

export default codecRoutes;
