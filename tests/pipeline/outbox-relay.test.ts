import { randomUUID } from 'node:crypto';
import { parseProfileUpdated } from '@app/events';
import { freePort, waitFor } from '@app/testkit';
import { ApiClient } from '../support/api-client.ts';
import { stackUrls } from '../support/env.ts';
import { spawnProfileApi } from '../support/profile-api-process.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import { readTopic } from '../support/topic-reader.ts';
import { newTraceparent } from '../support/zipkin.ts';

describe('profile-api: outbox relay to Kafka', () => {
  const topic = `profile.events.relay.${randomUUID()}`;
  let harness: ProfileApiHarness;
  let reader: Awaited<ReturnType<typeof readTopic>>;

  beforeAll(async () => {
    harness = await startProfileApiHarness('relay', {
      PROFILE_EVENTS_TOPIC: topic,
      RELAY_INTERVAL_MS: '200',
    });
    // The first commit creates the topic; read it once it exists.
    const { client } = await harness.signUp();
    await client.patch('/users/profile/', { first_name: 'Warmup' });
    reader = await readTopic(stackUrls().kafkaBrokers, topic);
    await waitFor('the warm-up event', () => reader.records.length >= 1, { timeoutMs: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await reader?.stop();
    await harness?.stop();
  });

  async function outboxOf(userId: number): Promise<unknown[]> {
    const user = await (
      await harness.database()
    )
      .collection<{ _id: string; outbox?: unknown[] }>('users')
      .findOne({ _id: String(userId) });
    if (!user) throw new Error(`user ${userId} is not in the database`);
    return (user?.outbox as unknown[]) ?? [];
  }

  /**
   * A profile-api process of its own on this suite's stores and topic, relaying every 200 ms: one
   * that can be killed between a commit and its publish, and one started after it to relay.
   */
  const processEnv = (extra: Record<string, string> = {}) => ({
    MONGO_URL: harness.api.config.mongoUrl,
    REDIS_URL: harness.api.config.redisUrl,
    SECRET_KEY: harness.api.config.secretKey,
    ADMIN_TOKEN: harness.api.config.adminToken,
    PROFILE_EVENTS_TOPIC: topic,
    RELAY_INTERVAL_MS: '200',
    ...extra,
  });

  test('when a profile changes, then its ProfileUpdated event is published keyed by user with headers, and leaves the outbox', async () => {
    const { client } = await harness.signUp();
    const updated = await client.patch('/users/profile-with-loyalty/', {
      first_name: 'Published',
      sms_allowed: true,
    });
    const userId = updated.body.id as number;

    const record = await waitFor('the event on the topic', () =>
      reader.records.find((candidate) => candidate.key === String(userId)),
    );

    const parsed = parseProfileUpdated(JSON.stringify(record.value));
    expect(parsed.ok).toBe(true);
    expect(record.value).toMatchObject({
      type: 'ProfileUpdated',
      schema_version: 1,
      user_id: userId,
      profile_version: 2,
      changed_fields: ['first_name', 'sms_allowed'],
      source: 'profile-with-loyalty',
      profile: { id: userId, first_name: 'Published', sms_allowed: true },
    });
    expect(record.headers).toEqual({
      event_id: record.value.event_id,
      event_type: 'ProfileUpdated',
      schema_version: '1',
    });
    await waitFor('the outbox to empty', async () => (await outboxOf(userId)).length === 0);
  });

  test('when 20 updates of one user race, then 20 events arrive once each, in version order on one partition', async () => {
    const { client } = await harness.signUp();
    const userId = (await client.get('/users/profile/')).body.id as number;

    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        client.patch('/users/profile/', { attributes: { step: index } }),
      ),
    );

    const mine = await waitFor('20 events of the user', () => {
      const found = reader.records.filter((record) => record.key === String(userId));
      return found.length >= 20 ? found : undefined;
    });
    expect(mine.map((record) => record.value.profile_version)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    expect(new Set(mine.map((record) => record.partition)).size).toBe(1);
    expect(new Set(mine.map((record) => record.value.event_id)).size).toBe(20);
  });

  test('when profile-api dies between the database write and the publish, then after a restart the relay publishes the event once', async () => {
    const { client, email, password } = await harness.signUp();
    const userId = (await client.get('/users/profile/')).body.id as number;
    const sharedEnv = processEnv();
    // A broker address where nothing listens: the commit succeeds, the publish cannot.
    const crashing = await spawnProfileApi({ ...sharedEnv, KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    const session = new ApiClient(crashing.url);
    await session.post('/users/login/', { email, password });
    const committed = await session.patch('/users/profile/', { last_name: 'Crashed' });
    expect(committed.status).toBe(200);
    const [pending] = (await outboxOf(userId)) as { event_id: string }[];
    expect(pending).toBeDefined();
    await crashing.kill();
    expect(reader.records.some((record) => record.value.event_id === pending!.event_id)).toBe(false);

    const restarted = await spawnProfileApi({ ...sharedEnv, KAFKA_BROKERS: stackUrls().kafkaBrokers });
    try {
      await waitFor(
        'the relay to publish the stranded event',
        () => reader.records.find((record) => record.value.event_id === pending!.event_id),
        { timeoutMs: 30_000 },
      );
      await waitFor('the outbox to empty', async () => (await outboxOf(userId)).length === 0);
    } finally {
      await restarted.kill();
    }
    const copies = reader.records.filter((record) => record.value.event_id === pending!.event_id);
    console.log(`crash between write and publish: lost 0, published ${copies.length} time(s)`);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.value).toMatchObject({ user_id: userId, profile: { last_name: 'Crashed' } });
  }, 90_000);

  test("when a traced commit is published only by the relay after a restart, then the record continues the request's trace and the payload carries no trace", async () => {
    const { client, email, password } = await harness.signUp();
    const userId = (await client.get('/users/profile/')).body.id as number;
    const sharedEnv = processEnv({
      // Traced as in the compose stack; spans go nowhere (nothing listens), the context is what counts.
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `http://127.0.0.1:${await freePort()}/api/v2/spans`,
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    });
    const crashing = await spawnProfileApi({ ...sharedEnv, KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    const session = new ApiClient(crashing.url);
    await session.post('/users/login/', { email, password });
    const { traceId, traceparent } = newTraceparent();
    const committed = await session.patch(
      '/users/profile/',
      { last_name: 'Traced' },
      { headers: { traceparent } },
    );
    expect(committed.status).toBe(200);
    const [pending] = (await outboxOf(userId)) as { event_id: string; trace?: { traceparent: string } }[];
    // Stored with the event: the request's context (its span under the caller's trace).
    expect(pending?.trace?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    await crashing.kill();

    const restarted = await spawnProfileApi({ ...sharedEnv, KAFKA_BROKERS: stackUrls().kafkaBrokers });
    try {
      const record = await waitFor(
        'the relay to publish the traced event',
        () => reader.records.find((candidate) => candidate.value.event_id === pending!.event_id),
        { timeoutMs: 30_000 },
      );
      // The same trace: the produce span of whichever relay sent it (this suite's own in-process
      // relay, untraced, forwards the stored context as it is).
      expect(record.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(record.value).not.toHaveProperty('trace');
      expect(parseProfileUpdated(JSON.stringify(record.value)).ok).toBe(true);
    } finally {
      await restarted.kill();
    }
  }, 90_000);
});
