import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ProfileApi } from '@app/profile-api';
import { freePort, waitFor } from '@app/testkit';
import type { ApiClient } from '../support/api-client.ts';
import { stackUrls } from '../support/env.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import { readTopic, type ReadRecord } from '../support/topic-reader.ts';

const CAP = 3;

/**
 * A long Kafka outage: the suite's profile-api points at a broker address where nothing listens,
 * so every change stays in its user's outbox. "Kafka returns" is a replica started on the same
 * database and Redis with the real broker: only its background round can publish that backlog.
 */
describe('profile-api: outbox backlog during a Kafka outage', () => {
  const topic = `profile.events.backlog.${randomUUID()}`;
  let harness: ProfileApiHarness;
  let reader: Awaited<ReturnType<typeof readTopic>>;
  let redis: Redis;

  beforeAll(async () => {
    harness = await startProfileApiHarness('backlog', {
      PROFILE_EVENTS_TOPIC: topic,
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      OUTBOX_MAX_PENDING_PER_USER: String(CAP),
      RELAY_INTERVAL_MS: '200',
      RELAY_GRACE_MS: '0',
    });
    reader = await readTopic(stackUrls().kafkaBrokers, topic);
    redis = new Redis(harness.api.config.redisUrl);
  }, 60_000);

  afterAll(async () => {
    await redis?.quit();
    await reader?.stop();
    await harness?.stop();
  });

  /** Kafka is back: a replica that reaches the broker, whose background round drains the backlog. */
  const kafkaReturns = (): Promise<ProfileApi> =>
    harness.startReplica({ KAFKA_BROKERS: stackUrls().kafkaBrokers });

  async function userWithChanges(count: number): Promise<{ client: ApiClient; userId: number }> {
    const { client } = await harness.signUp();
    let userId = 0;
    for (let step = 0; step < count; step += 1) {
      const response = await client.patch('/users/profile/', { attributes: { step } });
      expect(response.status).toBe(200);
      userId = response.body.id as number;
    }
    return { client, userId };
  }

  async function pendingOf(userId: number): Promise<number> {
    const user = await harness.storedDocument('users', String(userId));
    return (user?.outbox as unknown[] | undefined)?.length ?? 0;
  }

  const publishedOf = (userId: number): ReadRecord[] =>
    reader.records.filter((record) => record.key === String(userId));

  /** The versions of a user's events on the topic, once `count` have reached the test's reader. */
  const publishedVersions = (userId: number, count: number): Promise<unknown[]> =>
    waitFor(`${count} events of user ${userId} on the topic`, () => {
      const found = publishedOf(userId);
      return found.length >= count ? found.map((record) => record.value.profile_version) : undefined;
    });

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${harness.api.url}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`));
    if (!line) throw new Error(`${name} is not exposed`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  test(`when Kafka stays away, then a user's first ${CAP} changes commit, the next gets 503 with Retry-After and is counted, and nothing is lost once Kafka returns`, async () => {
    const capReachedBefore = await metric('profile_api_outbox_cap_reached_total');
    const { client, userId } = await userWithChanges(CAP);

    const refused = await client.patch('/users/profile/', { first_name: 'OneTooMany' });

    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ detail: expect.any(String) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await metric('profile_api_outbox_cap_reached_total')).toBe(capReachedBefore + 1);
    expect(await pendingOf(userId)).toBe(CAP);
    expect((await client.get('/users/profile/')).body).toMatchObject({ first_name: 'Ada' });

    const replica = await kafkaReturns();
    try {
      expect(await publishedVersions(userId, CAP)).toEqual([2, 3, 4]);
      await waitFor('the outbox to empty', async () => (await pendingOf(userId)) === 0);

      const accepted = await client.patch('/users/profile/', { first_name: 'Accepted' });
      expect(accepted.status).toBe(200);
      expect(await publishedVersions(userId, CAP + 1)).toEqual([2, 3, 4, 5]);
    } finally {
      await replica.stop();
    }
  });

  test('when concurrent changes race at the cap, then exactly the free slots commit and the rest get 503', async () => {
    const { client, userId } = await userWithChanges(1);

    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        client.patch('/users/profile/', { attributes: { race: index } }),
      ),
    );

    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(CAP - 1);
    expect(answers.filter((answer) => answer.status === 503)).toHaveLength(6 - (CAP - 1));
    expect(await pendingOf(userId)).toBe(CAP);
    const replica = await kafkaReturns();
    try {
      await waitFor('the outbox to empty', async () => (await pendingOf(userId)) === 0);
    } finally {
      await replica.stop();
    }
    expect(await publishedVersions(userId, CAP)).toEqual([2, 3, 4]);
  });

  test('when events wait unpublished, then the oldest-pending-age gauge counts from the oldest one and falls to 0 once drained', async () => {
    const before = Date.now();
    const { userId } = await userWithChanges(1);

    const age = await waitFor('the oldest pending event to be a second old', async () => {
      const value = await metric('profile_api_outbox_oldest_pending_age_seconds');
      return value >= 1 ? value : undefined;
    });
    expect(age).toBeLessThanOrEqual((Date.now() - before) / 1000 + 1);

    const replica = await kafkaReturns();
    try {
      await waitFor('the outbox to empty', async () => (await pendingOf(userId)) === 0);
      await waitFor(
        'the gauge to fall to 0',
        async () => (await metric('profile_api_outbox_oldest_pending_age_seconds')) === 0,
      );
    } finally {
      await replica.stop();
    }
  });

  test('when one user’s outbox is held by another replica, then the recovery round still drains every other user', async () => {
    const stuck = await userWithChanges(1);
    const others = [];
    for (let index = 0; index < 5; index += 1) others.push(await userWithChanges(2));
    // Another replica holds the stuck user's relay lease for longer than this test waits.
    const lease = `lock:outbox:${stuck.userId}`;
    expect(await redis.set(lease, 'another-replica', 'PX', 60_000, 'NX')).toBe('OK');

    const replica = await kafkaReturns();
    try {
      for (const { userId } of others) {
        await waitFor(`user ${userId}'s backlog drained`, async () => (await pendingOf(userId)) === 0);
        expect(await publishedVersions(userId, 2)).toEqual([2, 3]);
      }
      expect(await pendingOf(stuck.userId)).toBe(1);
      expect(publishedOf(stuck.userId)).toHaveLength(0);

      await redis.del(lease);
      await waitFor(
        'the stuck user drained once its lease is free',
        async () => (await pendingOf(stuck.userId)) === 0,
      );
      expect(await publishedVersions(stuck.userId, 1)).toEqual([2]);
    } finally {
      await replica.stop();
    }
  });
});
