import { randomBytes } from 'node:crypto';
import { AppError } from '@app/service-kit';
import { LEASE_TIMEOUT, type Lease } from '../domain/ports.ts';

/** The two Redis commands the lease needs (an ioredis client fits). */
export interface LeaseRedis {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface RedisLeaseOptions {
  /** How long a holder may keep the lease before it lapses (a crashed holder blocks no one for longer). */
  ttlMs?: number;
  /** How long a caller waits for the lease before giving up. */
  waitMs?: number;
}

// Delete only our own lease: a lapsed lease may already belong to someone else.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * A lease per key across every process that shares the Redis. Callers in one process queue
 * locally first, so only one of them at a time polls Redis for a contended key.
 *
 * Only the outbox relay uses it, to keep one user's events in order across replicas (see
 * OutboxRelayOptions.lease). Profile writes need none: the database applies each conditional
 * update atomically.
 */
export class RedisLease implements Lease {
  private readonly redis: LeaseRedis;
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly localTails = new Map<string, Promise<void>>();

  constructor(redis: LeaseRedis, { ttlMs = 5_000, waitMs = 10_000 }: RedisLeaseOptions = {}) {
    this.redis = redis;
    this.ttlMs = ttlMs;
    this.waitMs = waitMs;
  }

  async withLease<T>(key: string, critical: () => Promise<T>): Promise<T> {
    const previous = this.localTails.get(key) ?? Promise.resolve();
    let releaseLocal!: () => void;
    const current = new Promise<void>((resolve) => (releaseLocal = resolve));
    const tail = previous.then(() => current);
    this.localTails.set(key, tail);
    try {
      await previous;
      const token = await this.acquire(key);
      try {
        return await critical();
      } finally {
        await this.redis.eval(RELEASE_SCRIPT, 1, `lock:${key}`, token);
      }
    } finally {
      releaseLocal();
      if (this.localTails.get(key) === tail) this.localTails.delete(key);
    }
  }

  private async acquire(key: string): Promise<string> {
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt += 1) {
      if ((await this.redis.set(`lock:${key}`, token, 'PX', this.ttlMs, 'NX')) === 'OK') return token;
      if (Date.now() > deadline) throw new AppError(LEASE_TIMEOUT, `could not take the lease on ${key}`);
      const backoff = Math.min(50, 2 + attempt * 2) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}
