import { randomBytes } from 'node:crypto';
import { AppError } from './app-error.ts';

/** The two Redis commands the lock needs (an ioredis client fits). */
export interface LockRedis {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface KeyedLockOptions {
  /** How long a holder may keep the lock before it lapses (a crashed holder blocks no one for longer). */
  ttlMs?: number;
  /** How long a caller waits for the lock before giving up with a 503. */
  waitMs?: number;
}

// Delete only our own lock: a lapsed lock may already belong to someone else.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Mutual exclusion per key across every process that shares the Redis. Callers in one process
 * queue locally first, so only one of them at a time polls Redis for a contended key.
 *
 * Why it exists: FerretDB (the MongoDB-protocol database the tests run) executes findAndModify
 * and update as a read followed by a separate write, so concurrent writers of one document lose
 * updates there. Serialising writers per document makes the code correct on it and on MongoDB.
 */
export class KeyedLock {
  private readonly redis: LockRedis;
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly localTails = new Map<string, Promise<void>>();

  constructor(redis: LockRedis, { ttlMs = 5_000, waitMs = 10_000 }: KeyedLockOptions = {}) {
    this.redis = redis;
    this.ttlMs = ttlMs;
    this.waitMs = waitMs;
  }

  async withLock<T>(key: string, critical: () => Promise<T>): Promise<T> {
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
      if (Date.now() > deadline) {
        throw new AppError('lock-timeout', `could not lock ${key}`, {
          status: 503,
          body: { detail: 'The resource is busy. Try again.' },
          headers: { 'Retry-After': '1' },
        });
      }
      const backoff = Math.min(50, 2 + attempt * 2) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}
