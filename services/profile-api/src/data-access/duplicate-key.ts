const DUPLICATE_KEY = 11000;

/**
 * The field whose unique index refused a write (E11000), or undefined for any other error. The
 * server names the index's key in `keyPattern`; the message names the index when it does not.
 */
export function duplicateKeyField(error: unknown): string | undefined {
  const { code, keyPattern, keyValue, message } = (error ?? {}) as {
    code?: unknown;
    keyPattern?: Record<string, unknown>;
    keyValue?: Record<string, unknown>;
    message?: unknown;
  };
  if (code !== DUPLICATE_KEY) return undefined;
  const key = Object.keys(keyPattern ?? keyValue ?? {})[0];
  if (key) return key;
  const index = /index: (\w+?)(?:_-?1)?(?:\s|$)/.exec(String(message ?? ''))?.[1];
  return index ?? 'unknown';
}
