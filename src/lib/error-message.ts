/** The message of a thrown value, for logs and exit lines (a non-Error is stringified). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
