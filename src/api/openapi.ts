import type { SwaggerTransformObject } from '@fastify/swagger';

type Document = ReturnType<SwaggerTransformObject>;

/** What the public document leaves out: the internal `/auth/*` routes, documented on the admin listener. */
export interface InternalDocs {
  paths: Record<string, unknown>;
  schemas: Record<string, unknown>;
}

const isInternal = (path: string) => path.startsWith('/auth/');

/** A `transformObject` for the public document that moves internal paths into `into`. */
export function publicOnly(into: InternalDocs): SwaggerTransformObject {
  return (input) => {
    const doc = 'openapiObject' in input ? input.openapiObject : input.swaggerObject;
    const paths = (doc.paths ?? {}) as Record<string, unknown>;
    into.paths = Object.fromEntries(Object.entries(paths).filter(([p]) => isInternal(p)));
    into.schemas = { ...((doc as { components?: { schemas?: object } }).components?.schemas ?? {}) };
    return { ...doc, paths: Object.fromEntries(Object.entries(paths).filter(([p]) => !isInternal(p))) } as Document;
  };
}

/** A `transformObject` for the admin document that adds the internal paths of the public app. */
export function withInternal(internal: () => InternalDocs): SwaggerTransformObject {
  return (input) => {
    const doc = ('openapiObject' in input ? input.openapiObject : input.swaggerObject) as Document & {
      components?: { schemas?: object };
    };
    const { paths, schemas } = internal();
    return {
      ...doc,
      paths: { ...(doc.paths ?? {}), ...paths },
      components: { ...doc.components, schemas: { ...schemas, ...doc.components?.schemas } },
    } as Document;
  };
}
