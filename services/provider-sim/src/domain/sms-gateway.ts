export interface SmsRecord {
  id: string;
  to: string;
  text: string;
  received_at: string;
}

export interface SmsGateway {
  send(to: string, text: string): SmsRecord;
  /** Oldest first (newest last); every message when `to` is undefined. */
  list(to?: string): SmsRecord[];
  count(): number;
  reset(): void;
}

export interface SmsGatewayDeps {
  now: () => Date;
  newId: () => string;
}

export function createSmsGateway({ now, newId }: SmsGatewayDeps): SmsGateway {
  let all: SmsRecord[] = [];
  let byNumber = new Map<string, SmsRecord[]>();
  return {
    send(to, text) {
      const record: SmsRecord = { id: newId(), to, text, received_at: now().toISOString() };
      all.push(record);
      const forNumber = byNumber.get(to);
      if (forNumber) forNumber.push(record);
      else byNumber.set(to, [record]);
      return record;
    },
    list(to) {
      if (to === undefined) return all.slice();
      return byNumber.get(to)?.slice() ?? [];
    },
    count: () => all.length,
    reset() {
      all = [];
      byNumber = new Map();
    },
  };
}

/**
 * A `+` in a query string decodes to a space unless the client encoded it as `%2B`. Accept both:
 * trim, and put back the leading `+` an E.164 number must start with.
 */
export function normalizePhoneQuery(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.startsWith('+')) return trimmed;
  return `+${trimmed}`;
}
