import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisLease } from '../../services/profile-api/src/data-access/redis-lease.ts';
import { stackUrls } from '../support/env.ts';

// The relay trusts a note only when it comes straight from the previous holder (see OutboxRelay):
// these hold the lease's side of that against a real Redis.
describe('profile-api: the relay lease and its note', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(stackUrls().redisUrl, { enableAutoPipelining: true });
  });

  afterAll(async () => {
    await redis?.quit();
  });

  const noteSeen = (lease: RedisLease, key: string, leave?: string) =>
    lease.withLease(key, async (hold) => {
      if (leave !== undefined) hold.leave(leave);
      return hold.note;
    });

  test('when a holder leaves a note, then the next holder alone sees it, on any replica', async () => {
    const key = `outbox:${randomUUID()}`;
    const [one, other] = [new RedisLease(redis), new RedisLease(redis)];

    expect(await noteSeen(one, key, '3')).toBeUndefined();
    expect(await noteSeen(other, key)).toBe('3');
    expect(await noteSeen(one, key)).toBeUndefined();
  });

  test('when a holder’s lease lapsed and another took it, then the late holder leaves no note', async () => {
    const key = `outbox:${randomUUID()}`;
    const slow = new RedisLease(redis, { ttlMs: 50 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));

    const late = slow.withLease(key, async (hold) => {
      await held;
      hold.leave('stale');
    });
    // Another replica takes the lapsed lease and leaves its own note.
    const taker = new RedisLease(redis, { waitMs: 5_000 });
    expect(await noteSeen(taker, key, '7')).toBeUndefined();
    release();
    await late;

    expect(await noteSeen(taker, key)).toBe('7');
  });

  test('when the critical section fails, then it leaves no note and the lease is free again', async () => {
    const key = `outbox:${randomUUID()}`;
    const lease = new RedisLease(redis, { waitMs: 100 });
    await noteSeen(lease, key, '1');

    await expect(
      lease.withLease(key, async () => {
        throw new Error('publish failed');
      }),
    ).rejects.toThrow('publish failed');

    expect(await noteSeen(lease, key)).toBeUndefined();
  });
});
