import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '@app/service-kit';
import { LEASE_TIMEOUT, type Lease, type LeaseHold } from '../domain/ports.ts';

interface LeaseCommands {
  leaseAcquire(lockKey: string, noteKey: string, token: string, ttlMs: number): Promise<string | null>;
  leaseRelease(
    lockKey: string,
    noteKey: string,
    token: string,
    note: string,
    noteTtlMs: number,
  ): Promise<number>;
}

export interface RedisLeaseOptions {
  /** How long a holder may keep the lease before it lapses (a crashed holder blocks no one for longer). */
  ttlMs?: number;
  /** How long a caller waits for the lease before giving up. */
  waitMs?: number;
  /** How long a note left at release is kept for the next holder. */
  noteTtlMs?: number;
}

/**
 * Takes the lease (KEYS[1]) if free, and in the same step takes and erases the note the last holder
 * left (KEYS[2]): a note is only ever seen by the one holder that directly follows its writer.
 * Answers false when the lease is held, else the note or an empty string.
 */
const ACQUIRE_SCRIPT = `
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return false end
return redis.call('GETDEL', KEYS[2]) or ''
`;

// Release only our own lease (a lapsed lease may already belong to someone else), and leave the
// note only then: a holder that lost its lease knows nothing the next one may rely on.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return redis.call('DEL', KEYS[1])
`;

/**
 * A lease per key across every process that shares the Redis. Callers in one process queue
 * locally first, so only one of them at a time polls Redis for a contended key.
 *
 * Only the outbox relay uses it, to keep one user's events in order across replicas (see
 * OutboxRelayOptions.lease). Profile writes need none: the database applies each conditional
 * update atomically.
 *
 * The lease is `lock:<key>`, its note `{lock:<key>}:note`: the hash tag puts both in one Redis
 * Cluster slot, so each script touches a single slot.
 */
export class RedisLease implements Lease {
  private readonly redis: Redis & LeaseCommands;
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly noteTtlMs: number;
  private readonly localTails = new Map<string, Promise<void>>();

  constructor(redis: Redis, { ttlMs = 5_000, waitMs = 10_000, noteTtlMs = 600_000 }: RedisLeaseOptions = {}) {
    // By SHA (EVALSHA): both run for every publish.
    if (!('leaseAcquire' in redis)) {
      redis.defineCommand('leaseAcquire', { numberOfKeys: 2, lua: ACQUIRE_SCRIPT });
      redis.defineCommand('leaseRelease', { numberOfKeys: 2, lua: RELEASE_SCRIPT });
    }
    this.redis = redis as Redis & LeaseCommands;
    this.ttlMs = ttlMs;
    this.waitMs = waitMs;
    this.noteTtlMs = noteTtlMs;
  }

  async withLease<T>(key: string, critical: (hold: LeaseHold) => Promise<T>): Promise<T> {
    const previous = this.localTails.get(key) ?? Promise.resolve();
    let releaseLocal!: () => void;
    const current = new Promise<void>((resolve) => (releaseLocal = resolve));
    const tail = previous.then(() => current);
    this.localTails.set(key, tail);
    try {
      await previous;
      const lockKey = `lock:${key}`;
      const noteKey = `{${lockKey}}:note`;
      const { token, note } = await this.acquire(lockKey, noteKey);
      let left = '';
      try {
        return await critical({
          note,
          leave: (next) => {
            left = next;
          },
        });
      } finally {
        await this.redis.leaseRelease(lockKey, noteKey, token, left, this.noteTtlMs);
      }
    } finally {
      releaseLocal();
      if (this.localTails.get(key) === tail) this.localTails.delete(key);
    }
  }

  private async acquire(lockKey: string, noteKey: string): Promise<{ token: string; note?: string }> {
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt += 1) {
      const note = await this.redis.leaseAcquire(lockKey, noteKey, token, this.ttlMs);
      if (typeof note === 'string') return note === '' ? { token } : { token, note };
      if (Date.now() > deadline)
        throw new AppError(LEASE_TIMEOUT, `could not take the lease on ${lockKey.slice(5)}`);
      const backoff = Math.min(50, 2 + attempt * 2) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}
