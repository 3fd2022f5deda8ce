import { RATE_PATTERN, type ThrottleScope } from '@app/settings';
import { throttled } from './errors.ts';
import type { SettingsReader, ThrottleCounters } from './ports.ts';

const PERIOD_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseRate(rate: string): { limit: number; windowMs: number } | undefined {
  const match = RATE_PATTERN.exec(rate);
  if (!match) return undefined;
  return { limit: Number(match[1]), windowMs: PERIOD_MS[match[2]![0]!]! };
}

/** Applies the live THROTTLING_SETTINGS rate of a scope to one identity (a user id or an address). */
export class Throttler {
  private readonly store: ThrottleCounters;
  private readonly settings: SettingsReader;

  constructor(store: ThrottleCounters, settings: SettingsReader) {
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
