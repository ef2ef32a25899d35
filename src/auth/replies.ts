import { Type, type TSchema } from '@sinclair/typebox';
import { ROUTED } from '../upstreams/replies';

/**
 * The auth-service replies the gateway maps (auth-service.md), read liberally
 * (src/upstreams/replies.ts): only the ids it acts on are required.
 */
const routed = <T extends TSchema>(schema: T): T => ({ ...schema, [ROUTED]: true });

const MeOrg = Type.Object({
  org_id: routed(Type.String({ minLength: 1 })),
  name: Type.String(),
  role: Type.String(),
  is_owner: Type.Boolean(),
});

export const MeReply = Type.Object({
  sub: routed(Type.String({ minLength: 1 })),
  email: Type.String(),
  full_name: Type.Union([Type.String(), Type.Null()]),
  orgs: Type.Array(MeOrg),
  active_org_id: Type.Union([Type.String(), Type.Null()]),
});

export const MembersReply = Type.Array(
  Type.Object({ user_id: routed(Type.String({ minLength: 1 })), email: Type.String(), role: Type.String() }),
);

export const OrgCreatedReply = Type.Object({ org_id: routed(Type.String({ minLength: 1 })) });

const UUID_SEGMENT = '[^/]+';

/** Which reply schema a successful call gets, by method and path; others pass as they are. */
const REPLIES: { method: string; path: RegExp; operation: string; schema: TSchema }[] = [
  { method: 'GET', path: /^\/v1\/client\/me$/, operation: 'me', schema: MeReply },
  { method: 'PATCH', path: /^\/v1\/client\/update$/, operation: 'update', schema: MeReply },
  { method: 'POST', path: /^\/v1\/org$/, operation: 'create_org', schema: OrgCreatedReply },
  {
    method: 'GET',
    path: new RegExp(`^/(v1|auth)/org/${UUID_SEGMENT}/members$`),
    operation: 'members',
    schema: MembersReply,
  },
];

export function authReplySpec(method: string, path: string) {
  return REPLIES.find((r) => r.method === method && r.path.test(path));
}
