import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { constantTimeEqual } from '../../lib/constant-time';
import { OperatorTokenVerifier } from '../../auth/operator-token';
import type { Logger } from '../../logger';

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
 * payloads to operators; served on the admin listener only (docs/operations-admin.md). Callers:
 * the internal key or the CODEC_ENDPOINT_TOKEN bearer token (CLI, scripts), else with
 * CODEC_AUTH=jwt the operator's own access token. With CODEC_AUTH=none and no codec token, the
 * admin network is the only guard. An `Origin` header proves nothing and is not looked at.
 */
const codecRoutes: FastifyPluginAsync = async (app) => {
  const { config } = app;
  const operators = config.CODEC_AUTH === 'jwt' ? new OperatorTokenVerifier(config, app.log as Logger) : undefined;

  async function authorize(request: FastifyRequest) {
    const internal = request.headers['x-internal-key'];
    if (typeof internal === 'string' && constantTimeEqual(internal, config.INTERNAL_SERVICE_KEY)) return;
    const auth = request.headers.authorization;
    if (config.CODEC_ENDPOINT_TOKEN && typeof auth === 'string' && auth.startsWith('Bearer ')) {
      if (constantTimeEqual(auth.slice(7), config.CODEC_ENDPOINT_TOKEN)) return;
    }
    if (operators) return operators.verify(auth);
    if (config.CODEC_ENDPOINT_TOKEN)
      throw new HttpError('unauthorized', 'Codec endpoint needs X-Internal-Key or the codec token');
  }

  // Before the body is read: an unauthorised caller costs no parsing.
  app.addHook('onRequest', authorize);

  const schema = (summary: string) => ({
    tags: ['operations'],
    summary,
    body: JsonPayloads,
    response: { 200: JsonPayloads },
    security: [{ internalKey: [] }, { bearer: [] }] as Record<string, string[]>[],
  });

  app.post<{ Body: JsonPayloadsT }>(
    '/codec/encode',
    { schema: schema('Encrypt payloads (Temporal remote codec)') },
    async (request) => {
      const out = await app.deps.codec.encode(request.body.payloads.map(fromJson));
      return { payloads: out.map(toJson) };
    },
  );

  app.post<{ Body: JsonPayloadsT }>(
    '/codec/decode',
    { schema: schema('Decrypt payloads for Temporal UI') },
    async (request) => {
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
