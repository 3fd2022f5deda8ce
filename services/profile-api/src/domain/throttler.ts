import { RATE_PATTERN, type AbuseLimitsSetting, type ThrottleScope } from '@app/settings';
import { throttled } from './errors.ts';
import type { SettingsReader, ThrottleCounters } from './ports.ts';

const PERIOD_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseRate(rate: string): { limit: number; windowMs: number } | undefined {
  const match = RATE_PATTERN.exec(rate);
  if (!match) return undefined;
  const periods = match[2] ? Number(match[2]) : 1;
  return { limit: Number(match[1]), windowMs: periods * PERIOD_MS[match[3]![0]!]! };
}

export type AbuseLimit = keyof AbuseLimitsSetting;

/**
 * Applies the live THROTTLING_SETTINGS rate of a scope to one identity (a user id or an address),
 * and the live ABUSE_LIMITS to theirs (a number, the whole service, an account).
 */
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

  /**
   * Counts one hit against a live ABUSE_LIMITS limit: 0 while within it (or the limit is off),
   * else the seconds until its window ends. The caller decides what a spent limit means.
   */
  async hitAbuseLimit(limit: AbuseLimit, identity: string): Promise<number> {
    const rate = (await this.settings.get('ABUSE_LIMITS'))[limit];
    const parsed = rate ? parseRate(rate) : undefined;
    if (!parsed) return 0;
    const result = await this.store.hit(`abuse:${limit}:${identity}`, parsed.limit, parsed.windowMs);
    return result.allowed ? 0 : result.retryAfterSeconds;
  }

  async clearAbuseLimit(limit: AbuseLimit, identity: string): Promise<void> {
    await this.store.clear(`abuse:${limit}:${identity}`);
  }
}
