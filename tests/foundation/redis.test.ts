import { Redis } from 'ioredis';
import { waitFor } from '@app/testkit';
import { stackUrls } from '../support/env.ts';

describe('Redis', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(stackUrls().redisUrl);
  });

  afterAll(async () => {
    await redis.quit();
  });

  test('when a key is SET with EX, then it carries a TTL and disappears once it expires', async () => {
    await redis.set('foundation:expiring', 'value', 'EX', 1);

    expect(await redis.get('foundation:expiring')).toBe('value');
    expect(await redis.pttl('foundation:expiring')).toBeGreaterThan(0);

    await waitFor('the key to expire', async () => (await redis.exists('foundation:expiring')) === 0, {
      timeoutMs: 5_000,
    });
    expect(await redis.get('foundation:expiring')).toBeNull();
  });
});
