export type JsonObject = Record<string, unknown>;

export interface HistoryEntry {
  idempotency_key: string;
  payload: JsonObject;
  applied_at: string;
}

export interface CustomerView {
  id: string;
  current: JsonObject;
  history: HistoryEntry[];
  /** Updates applied to this customer (one per distinct idempotency key). */
  applications: number;
  /** Requests for this customer answered as replays of an already applied key. */
  replayed: number;
}

export type ApplyOutcome =
  | { kind: 'applied' }
  | { kind: 'replayed' }
  /** The key was first used for another customer: a caller bug worth failing loudly on. */
  | { kind: 'key-conflict'; customerId: string };

export interface LedgerCounts {
  customers: number;
  applied: number;
  replayed: number;
  max_applications_per_key: number;
  duplicate_applications: number;
}

export interface LoyaltyLedger {
  apply(customerId: string, idempotencyKey: string, payload: JsonObject): ApplyOutcome;
  get(customerId: string): CustomerView | undefined;
  counts(): LedgerCounts;
  reset(): void;
}

interface CustomerState {
  current: JsonObject;
  history: HistoryEntry[];
  replayed: number;
}

interface KeyState {
  customerId: string;
  applications: number;
}

/**
 * The loyalty provider's side of idempotency: a key is applied at most once, repeats are
 * answered as replays. Applications are still counted per key so tests can assert the invariant
 * (`duplicate_applications` stays 0) instead of trusting it.
 */
export function createLoyaltyLedger({ now }: { now: () => Date }): LoyaltyLedger {
  let customers = new Map<string, CustomerState>();
  let keys = new Map<string, KeyState>();
  let applied = 0;
  let replayed = 0;
  let maxApplicationsPerKey = 0;
  let duplicateApplications = 0;

  const recordApplication = (key: KeyState) => {
    key.applications += 1;
    if (key.applications === 2) duplicateApplications += 1;
    if (key.applications > maxApplicationsPerKey) maxApplicationsPerKey = key.applications;
    applied += 1;
  };

  return {
    apply(customerId, idempotencyKey, payload) {
      const seen = keys.get(idempotencyKey);
      if (seen) {
        if (seen.customerId !== customerId) return { kind: 'key-conflict', customerId: seen.customerId };
        replayed += 1;
        const customer = customers.get(customerId);
        if (customer) customer.replayed += 1;
        return { kind: 'replayed' };
      }
      const key: KeyState = { customerId, applications: 0 };
      keys.set(idempotencyKey, key);
      const entry: HistoryEntry = {
        idempotency_key: idempotencyKey,
        payload,
        applied_at: now().toISOString(),
      };
      const customer = customers.get(customerId);
      if (customer) {
        customer.current = payload;
        customer.history.push(entry);
      } else {
        customers.set(customerId, { current: payload, history: [entry], replayed: 0 });
      }
      recordApplication(key);
      return { kind: 'applied' };
    },
    get(customerId) {
      const customer = customers.get(customerId);
      if (!customer) return undefined;
      return {
        id: customerId,
        current: customer.current,
        history: customer.history,
        applications: customer.history.length,
        replayed: customer.replayed,
      };
    },
    counts: () => ({
      customers: customers.size,
      applied,
      replayed,
      max_applications_per_key: maxApplicationsPerKey,
      duplicate_applications: duplicateApplications,
    }),
    reset() {
      customers = new Map();
      keys = new Map();
      applied = 0;
      replayed = 0;
      maxApplicationsPerKey = 0;
      duplicateApplications = 0;
    },
  };
}
