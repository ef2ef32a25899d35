import { FormatRegistry } from '@sinclair/typebox';
import { isDataUrl } from './chat/data-url';

/**
 * String formats for TypeBox's own checker (Value.Check), which rejects formats it does not know;
 * fastify's ajv knows them already. Import this module before checking values with `format`s.
 */
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v));
}
if (!FormatRegistry.Has('uuid')) {
  FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));
}
if (!FormatRegistry.Has('data-url')) FormatRegistry.Set('data-url', isDataUrl);
