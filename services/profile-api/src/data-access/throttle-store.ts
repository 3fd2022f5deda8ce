import type { Redis } from 'ioredis';
import type { ThrottleCounters, ThrottleResult } from '../domain/ports.ts';

// INCR and PEXPIRE in one step, so a crash between them can never leave a counter without expiry.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }
`;

/** Fixed-window counters in Redis, so every replica shares the same budget. */
export class ThrottleStore implements ThrottleCounters {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async hit(bucket: string, limit: number, windowMs: number): Promise<ThrottleResult> {
    const [count, ttlMs] = (await this.redis.eval(HIT_SCRIPT, 1, `throttle:${bucket}`, windowMs)) as [
      number,
      number,
    ];
    if (count <= limit) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
  }
}
