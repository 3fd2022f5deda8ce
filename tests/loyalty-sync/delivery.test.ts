import { Partitioners } from 'kafkajs';
import { PROFILE_EVENTS_PARTITIONS, type ProfileUpdatedEvent } from '@app/events';
import type { LoyaltyCardServiceSetting } from '@app/settings';
import { waitFor } from '@app/testkit';
import { appliedVersionKey, expectedPayload, produceEvents, profileEvent } from '../support/loyalty-sync.ts';
import { startLoyaltySuite, type LoyaltySettings, type LoyaltySuite } from '../support/loyalty-suite.ts';
import type { WorkerProcess } from '../support/workers.ts';

const USERS = [101, 102, 103, 104];

describe('loyalty-sync delivery', () => {
  let suite: LoyaltySuite;
  let worker: WorkerProcess;
  let settings: LoyaltySettings;
  let loyaltySetting: LoyaltyCardServiceSetting;

  const setLoyalty = async (change: Partial<LoyaltyCardServiceSetting>) => {
    loyaltySetting = { ...loyaltySetting, ...change };
    await settings.store.set('CUSTOMER_LOYALTY_CARD_SERVICE', loyaltySetting);
    // The worker reads the live setting at scrape time from the same cache its consumer uses.
    await waitFor('the worker to see the new setting', async () => {
      const enabled = await worker.metric('loyalty_sync_setting_enabled');
      const all = await worker.metric('loyalty_sync_setting_sync_all_updates');
      return enabled === Number(loyaltySetting.enabled) && all === Number(loyaltySetting.sync_all_updates);
    });
  };

  const caughtUp = () =>
    waitFor('the worker to commit every record', () => suite.groupCaughtUp(), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });

  beforeAll(async () => {
    suite = await startLoyaltySuite('delivery', { kafkaLogLevel: 'warn' });
    worker = await suite.spawnWorker('delivery-worker');
    settings = await suite.openSettings();
    loyaltySetting = settings.loyalty;
  }, 120_000);

  afterAll(() => suite?.stop());

  // Per user: v1 and v3, v4 for the loyalty card; v2 is a plain profile change.
  const original = new Map<number, ProfileUpdatedEvent[]>();

  test('when users update their profiles, then the loyalty updates reach the provider in order, with the loyalty fields, the event id as Idempotency-Key and the API key, and the rest is skipped', async () => {
    for (const user of USERS) {
      original.set(user, [
        profileEvent(user, 1),
        profileEvent(user, 2, { source: 'profile' }),
        profileEvent(user, 3),
        profileEvent(user, 4),
      ]);
    }
    const interleaved = [0, 1, 2, 3].flatMap((index) => USERS.map((user) => original.get(user)![index]!));
    await produceEvents(suite.producer, suite.names.topic, interleaved);
    // Then, per user: v3 delivered a second time, and a new event with an older version.
    const late = USERS.flatMap((user) => [original.get(user)![2]!, profileEvent(user, 2)]);
    await produceEvents(suite.producer, suite.names.topic, late);

    await waitFor('12 updates to be applied', async () => (await suite.provider.stats()).applied >= 12, {
      timeoutMs: 60_000,
    });
    await caughtUp();

    for (const user of USERS) {
      const [v1, , v3, v4] = original.get(user)!;
      const customer = await suite.provider.customer(user);
      // provider-sim was started with the API key: a wrong Bearer would have been a 401.
      expect(customer?.history.map((entry) => entry.idempotency_key)).toEqual([
        v1!.event_id,
        v3!.event_id,
        v4!.event_id,
      ]);
      expect(customer?.history.map((entry) => entry.payload)).toEqual([
        expectedPayload(v1!),
        expectedPayload(v3!),
        expectedPayload(v4!),
      ]);
      expect(customer?.current).toEqual(expectedPayload(v4!));
    }
    expect(await suite.provider.stats()).toMatchObject({
      customers: 4,
      applied: 12,
      replayed: 0,
      max_applications_per_key: 1,
      duplicate_applications: 0,
    });
    expect(await worker.metric('loyalty_sync_events_applied_total', { result: 'applied' })).toBe(12);
    expect(await worker.metric('loyalty_sync_events_skipped_total', { reason: 'source' })).toBe(4);
    // The redelivered v3 and the older v2 of each user.
    expect(await worker.metric('loyalty_sync_events_skipped_total', { reason: 'stale' })).toBe(8);
    expect(await worker.metric('loyalty_sync_events_dead_lettered_total')).toBe(0);
  }, 120_000);

  test('when an applied event is delivered again after its version record was lost, then the provider treats it as a replay and applies it once', async () => {
    const v4 = original.get(101)![3]!;
    // As if the worker died between the provider call and the version write.
    expect(await settings.redis.del(appliedVersionKey(suite.names.group, 101))).toBe(1);

    await produceEvents(suite.producer, suite.names.topic, [v4]);

    await waitFor(
      'the provider to answer a replay',
      async () => (await suite.provider.stats()).replayed === 1,
      {
        timeoutMs: 30_000,
      },
    );
    await caughtUp();
    const customer = await suite.provider.customer(101);
    expect(customer?.applications).toBe(3);
    expect(customer?.replayed).toBe(1);
    expect(await suite.provider.stats()).toMatchObject({ applied: 12, duplicate_applications: 0 });
    expect(await worker.metric('loyalty_sync_events_applied_total', { result: 'replayed' })).toBe(1);
  }, 60_000);

  test('when sync_all_updates is switched on live, then profile changes without loyalty fields are synced too', async () => {
    await setLoyalty({ sync_all_updates: true });
    const v5 = profileEvent(102, 5, { source: 'profile' });

    await produceEvents(suite.producer, suite.names.topic, [v5]);

    await waitFor('the profile-source update to be applied', async () => {
      const customer = await suite.provider.customer(102);
      return customer?.history.at(-1)?.idempotency_key === v5.event_id;
    });
    const customer = await suite.provider.customer(102);
    expect(customer?.applications).toBe(4);
    expect(customer?.current).toEqual(expectedPayload(v5));
    await setLoyalty({ sync_all_updates: false });
  }, 60_000);

  test('when the sync is disabled live, then events are acknowledged without a call, and later ones sync once it is enabled again', async () => {
    await setLoyalty({ enabled: false });
    const whileDisabled = profileEvent(103, 5);

    await produceEvents(suite.producer, suite.names.topic, [whileDisabled]);
    await caughtUp();

    expect((await suite.provider.customer(103))?.applications).toBe(3);
    expect(await worker.metric('loyalty_sync_events_skipped_total', { reason: 'disabled' })).toBe(1);

    await setLoyalty({ enabled: true });
    const afterwards = profileEvent(103, 6);
    await produceEvents(suite.producer, suite.names.topic, [afterwards]);
    await waitFor(
      'the next update to be applied',
      async () => (await suite.provider.customer(103))?.applications === 4,
    );
    expect((await suite.provider.customer(103))?.history.map((entry) => entry.idempotency_key)).not.toContain(
      whileDisabled.event_id,
    );
    expect((await suite.provider.stats()).duplicate_applications).toBe(0);
  }, 60_000);

  test('when the provider is slow, then users on different partitions are synced in parallel and each user keeps its order', async () => {
    const latencyMs = 250;
    await suite.provider.faults({ latency_ms: latencyMs });
    const users = Array.from({ length: 24 }, (_, index) => 201 + index);
    const updates = [1, 2].flatMap((version) => users.map((user) => profileEvent(user, version)));
    const before = (await suite.provider.stats()).applied;
    const started = Date.now();

    await produceEvents(suite.producer, suite.names.topic, updates);
    await waitFor(
      'the slow updates to be applied',
      async () => (await suite.provider.stats()).applied === before + updates.length,
      {
        timeoutMs: 60_000,
      },
    );
    const elapsedMs = Date.now() - started;
    await suite.provider.clearFaults();

    // Where the producer's partitioner put each update (key = user id).
    const partitionOf = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: PROFILE_EVENTS_PARTITIONS }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    const perPartition = new Map<number, number>();
    for (const update of updates) {
      const partition = partitionOf({
        topic: suite.names.topic,
        partitionMetadata,
        message: { key: String(update.user_id), value: null },
      });
      perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
    }
    const sequentialMs = updates.length * latencyMs;
    const criticalPathMs = Math.max(...perPartition.values()) * latencyMs;
    console.log(
      `slow provider (${latencyMs} ms per call): ${updates.length} updates over ${perPartition.size} partitions applied in ${elapsedMs} ms ` +
        `(one at a time: ${sequentialMs} ms; busiest partition alone: ${criticalPathMs} ms)`,
    );
    expect(elapsedMs).toBeLessThan(sequentialMs / 2);
    for (const user of users) {
      const customer = await suite.provider.customer(user);
      expect(customer?.history.map((entry) => entry.payload.profile_version)).toEqual([1, 2]);
    }
  }, 120_000);

  test('when the worker gets SIGTERM, then it commits what it handled, leaves the group and exits 0', async () => {
    const exit = await worker.stop();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.logCount('loyalty-sync stopped')).toBe(1);
    expect(await suite.groupCaughtUp()).toBe(true);
    const admin = suite.kafka.admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([suite.names.group]);
    await admin.disconnect();
    expect(groups[0]?.members).toHaveLength(0);
  }, 60_000);
});
