import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { SettingSchema } from '../../../chat/schemas';
import { withErrors } from '../../schemas';
import { requestMetadata } from './shared';

/** The public chat settings: no authentication, so registered outside the authenticated scope. */
const chatSettingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Anyone may call this route: one answer (or one call in flight) serves every caller for
  // CHAT_SETTINGS_CACHE_MS, so a flood of anonymous requests is not a flood of Kafka requests.
  let cached: { until: number; items: Promise<Static<typeof SettingSchema>[]> } | undefined;

  app.get(
    '/api/chat/settings/',
    {
      schema: {
        tags: ['chat'],
        summary: 'Public chat settings (no authentication; other methods → 405; cached CHAT_SETTINGS_CACHE_MS)',
        response: withErrors({ 200: Type.Array(SettingSchema) }, 502, 503, 504),
      },
    },
    async (request) => {
      const now = Date.now();
      if (!cached || cached.until <= now) {
        const entry = {
          until: now + app.config.CHAT_SETTINGS_CACHE_MS,
          items: app.deps.chat
            .request('chat_get_settings', {}, { requestMetadata: requestMetadata(request) })
            .then((r) => r.items),
        };
        // A failure is not cached: the next caller asks again.
        entry.items.catch(() => {
          if (cached === entry) cached = undefined;
        });
        cached = entry;
      }
      return cached.items;
    },
  );
};

export default chatSettingsRoutes;
