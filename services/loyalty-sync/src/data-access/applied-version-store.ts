import type { Redis } from 'ioredis';
import type { AppliedVersion, AppliedVersions } from '../domain/sync-use-case.ts';

// Compare-and-set in one step: an older version never overwrites a newer one, even when two
// owners of a partition overlap for a moment during a rebalance.
const RECORD_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'profile_version'))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'profile_version', ARGV[1], 'event_id', ARGV[2], 'applied_at', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

type RecordingRedis = Redis & {
  recordAppliedVersion(
    key: string,
    profileVersion: number,
    eventId: string,
    appliedAt: string,
    retentionMs: number,
  ): Promise<number>;
};

export interface AppliedVersionStoreOptions {
  /** Records belong to one consumer group: another group syncing the same topic keeps its own. */
  consumerGroup: string;
  /**
   * How long a user's record outlives their last applied event. It only has to cover the events
   * that can still arrive: keep it above the topic's and the dead-letter topic's retention.
   */
  retentionMs: number;
}

/**
 * The last profile version applied at the provider, per user, as a Redis hash
 * `{group}:applied:{user_id}` → {profile_version, event_id, applied_at}.
 *
 * Redis, not MongoDB: it is read and written once per event on the hot path, is small and
 * expires, and losing it is safe (a redelivered event reaches the provider with the same
 * Idempotency-Key and is a replay there). Lookups and writes of concurrent events share round
 * trips through ioredis auto-pipelining.
 */
export class AppliedVersionStore implements AppliedVersions {
  private readonly redis: RecordingRedis;
  private readonly options: AppliedVersionStoreOptions;

  constructor(redis: Redis, options: AppliedVersionStoreOptions) {
    // EVALSHA (with ioredis's fallback to EVAL): the script text is not sent with every event.
    redis.defineCommand('recordAppliedVersion', { numberOfKeys: 1, lua: RECORD_SCRIPT });
    this.redis = redis as RecordingRedis;
    this.options = options;
  }

  static keyOf(consumerGroup: string, userId: number): string {
    return `${consumerGroup}:applied:${userId}`;
  }

  async lastAppliedVersion(userId: number): Promise<number | undefined> {
    const stored = await this.redis.hget(this.key(userId), 'profile_version');
    return stored === null ? undefined : Number(stored);
  }

  async recordApplied({ userId, profileVersion, eventId }: AppliedVersion): Promise<void> {
    await this.redis.recordAppliedVersion(
      this.key(userId),
      profileVersion,
      eventId,
      new Date().toISOString(),
      this.options.retentionMs,
    );
  }

  private key(userId: number): string {
    return AppliedVersionStore.keyOf(this.options.consumerGroup, userId);
  }
}
