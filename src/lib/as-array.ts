/** A route's hook option (one function, a list, or none) as a list, to add a hook beside the route's own. */
export function asArray<T>(hook: T | T[] | undefined): T[] {
  if (hook === undefined) return [];
  return Array.isArray(hook) ? hook : [hook];
}
