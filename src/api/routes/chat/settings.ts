import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SettingSchema } from '../../../chat/schemas';
import { withErrors } from '../../schemas';
import { requestMetadata } from './shared';

/** The public chat settings: no authentication, so registered outside the authenticated scope. */
const chatSettingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/chat/settings/',
    {
      schema: {
        tags: ['chat'],
        summary: 'Public chat settings (no authentication; other methods → 405)',
        response: withErrors({ 200: Type.Array(SettingSchema) }, 502, 503, 504),
      },
    },
    async (request) =>
      (await app.deps.chat.request('chat_get_settings', {}, { requestMetadata: requestMetadata(request) })).items,
  );
};

export default chatSettingsRoutes;
