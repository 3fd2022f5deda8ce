import type { SettingKey, Settings } from './setting-schemas.ts';

/** What a masked secret starts with. A stored secret never does (the schema refuses it). */
export const MASK = '****';

/** Fields of a setting that are credentials: never answered in clear. */
const SECRET_FIELDS: Partial<Record<SettingKey, readonly string[]>> = {
  CUSTOMER_LOYALTY_CARD_SERVICE: ['api_key'],
};

/** Secrets shorter than this show no characters at all: four of eleven would be too many. */
const SHOW_TAIL_FROM_LENGTH = 12;

/** "****" + the last 4 characters (enough to tell which key is set), "" for an unset one. */
export function maskSecret(secret: string): string {
  if (secret === '') return '';
  return secret.length >= SHOW_TAIL_FROM_LENGTH ? `${MASK}${secret.slice(-4)}` : MASK;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A setting's value as operators are shown it: its secret fields masked. */
export function maskSecrets<K extends SettingKey>(key: K, value: Settings[K]): Settings[K] {
  const fields = SECRET_FIELDS[key];
  if (!fields || !isRecord(value)) return value;
  const masked: Record<string, unknown> = { ...value };
  for (const field of fields) {
    if (typeof masked[field] === 'string') masked[field] = maskSecret(masked[field]);
  }
  return masked as Settings[K];
}

/**
 * A value an operator sends back: a secret field that equals the current secret's mask (what GET
 * answered) means "unchanged" and is replaced by the current secret, so reading a setting, editing
 * another field and writing it back never overwrites the key with its mask. Any other value is
 * taken as the new secret; one that still looks masked is refused by the schema.
 */
export function restoreMaskedSecrets<K extends SettingKey>(
  key: K,
  incoming: unknown,
  current: Settings[K],
): unknown {
  const fields = SECRET_FIELDS[key];
  const stored: unknown = current;
  if (!fields || !isRecord(incoming) || !isRecord(stored)) return incoming;
  const restored: Record<string, unknown> = { ...incoming };
  for (const field of fields) {
    const secret = stored[field];
    if (typeof secret === 'string' && secret !== '' && restored[field] === maskSecret(secret)) {
      restored[field] = secret;
    }
  }
  return restored;
}
