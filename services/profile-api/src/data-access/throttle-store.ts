import type { Redis } from 'ioredis';
import type { ThrottleCounters, ThrottleResult } from '../domain/ports.ts';

// INCR and PEXPIRE in one step, so a crash between them can never leave a counter without expiry.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }
`;

interface ThrottleCommands {
  throttleHit(key: string, windowMs: number): Promise<[number, number]>;
}

/**
 * Fixed-window counters in Redis, so every replica shares the same budget. The script goes by its
 * SHA (EVALSHA, loaded on first use): every request runs it, so it is not sent each time.
 */
export class ThrottleStore implements ThrottleCounters {
  private readonly redis: Redis & ThrottleCommands;

  constructor(redis: Redis) {
    if (!('throttleHit' in redis)) redis.defineCommand('throttleHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = redis as Redis & ThrottleCommands;
  }

  async hit(bucket: string, limit: number, windowMs: number): Promise<ThrottleResult> {
    const [count, ttlMs] = await this.redis.throttleHit(`throttle:${bucket}`, windowMs);
    if (count <= limit) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
  }

  async clear(bucket: string): Promise<void> {
    await this.redis.del(`throttle:${bucket}`);
  }
}
