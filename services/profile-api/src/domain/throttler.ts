import { AppError } from '@app/service-kit';
import { RATE_PATTERN, type SettingsStore, type ThrottleScope } from '@app/settings';
import type { ThrottleStore } from '../data-access/throttle-store.ts';

const PERIOD_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseRate(rate: string): { limit: number; windowMs: number } | undefined {
  const match = RATE_PATTERN.exec(rate);
  if (!match) return undefined;
  return { limit: Number(match[1]), windowMs: PERIOD_MS[match[2]![0]!]! };
}

export function throttled(retryAfterSeconds: number): AppError {
  return new AppError('throttled', 'request throttled', {
    status: 429,
    body: { detail: `Request was throttled. Expected available in ${retryAfterSeconds} seconds.` },
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/** Applies the live THROTTLING_SETTINGS rate of a scope to one identity (a user id or an address). */
export class Throttler {
  private readonly store: ThrottleStore;
  private readonly settings: SettingsStore;

  constructor(store: ThrottleStore, settings: SettingsStore) {
    this.store = store;
    this.settings = settings;
  }

  async check(scope: ThrottleScope, identity: string): Promise<void> {
    const rate = (await this.settings.get('THROTTLING_SETTINGS'))[scope];
    const parsed = rate ? parseRate(rate) : undefined;
    if (!parsed) return;
    const bucket = `${scope}:${identity}`;
    const result = await this.store.hit(bucket, parsed.limit, parsed.windowMs);
    if (!result.allowed) throw throttled(result.retryAfterSeconds);
  }
}
