import { waitFor } from '@app/testkit';
import {
  LOYALTY_API_KEY,
  deliveredOnceInOrder,
  deliveryReport,
  produceEvents,
  readToEnd,
  updateStream,
} from '../support/loyalty-sync.ts';
import { startLoyaltySuite, type LoyaltySettings, type LoyaltySuite } from '../support/loyalty-suite.ts';
import type { WorkerProcess } from '../support/workers.ts';

const USERS = 8;
const VERSIONS = 5;

describe('loyalty-sync when the provider refuses the API key', () => {
  let suite: LoyaltySuite;
  let settings: LoyaltySettings;
  let worker: WorkerProcess;

  beforeAll(async () => {
    // A short open period: each half-open trial retries the key within a second.
    suite = await startLoyaltySuite('auth', { workerEnv: { BREAKER_RESET_TIMEOUT_MS: '1000' } });
    settings = await suite.openSettings();
    // A rotated key the provider no longer accepts: provider-sim answers 401 to every PUT.
    await settings.store.set('CUSTOMER_LOYALTY_CARD_SERVICE', {
      ...settings.loyalty,
      api_key: 'revoked-key',
    });
    worker = await suite.spawnWorker('auth-worker');
  }, 120_000);

  afterAll(() => suite?.stop());

  test('when the provider answers 401, then delivery pauses with the circuit open and an alert metric, nothing is dead-lettered, and after the key is fixed every event arrives once and in order', async () => {
    const events = updateStream(4_001, USERS, VERSIONS);
    await produceEvents(suite.producer, suite.names.topic, events);

    // Refused at the first call and again at later half-open trials: the block outlasts retries.
    await waitFor(
      'the worker to report the refused key, open its circuit and pause, through several trials',
      async () =>
        (await worker.metric('loyalty_sync_provider_auth_blocked')) === 1 &&
        (await worker.metric('loyalty_sync_provider_auth_failures_total')) >= 3 &&
        (await worker.metric('loyalty_sync_breaker_transitions_total', { state: 'open' })) >= 3 &&
        (await worker.metric('loyalty_sync_partition_pauses_total', { cause: 'circuit-open' })) >= 1,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const refusedCalls = await worker.metric('loyalty_sync_provider_calls_total', {
      outcome: 'unauthorized',
    });
    expect((await suite.provider.stats()).applied).toBe(0);
    expect(await worker.metric('loyalty_sync_events_dead_lettered_total')).toBe(0);
    expect(await readToEnd(suite.kafka, suite.names.deadLetterTopic)).toHaveLength(0);
    expect(await suite.groupCaughtUp()).toBe(false);
    expect(
      worker.logs.some((line) =>
        String(line.msg).startsWith('loyalty card service refused the API key (401)'),
      ),
    ).toBe(true);

    await settings.store.set('CUSTOMER_LOYALTY_CARD_SERVICE', {
      ...settings.loyalty,
      api_key: LOYALTY_API_KEY,
    });

    await waitFor(
      'every event to be applied once the key works',
      async () => (await suite.provider.stats()).applied >= events.length,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await waitFor('the group to commit everything', () => suite.groupCaughtUp(), { timeoutMs: 30_000 });
    await waitFor(
      'the worker to clear the block and close its circuit',
      async () =>
        (await worker.metric('loyalty_sync_provider_auth_blocked')) === 0 &&
        (await worker.metric('loyalty_sync_breaker_state')) === 0 &&
        (await worker.metric('loyalty_sync_paused_partitions')) === 0,
    );

    const report = await deliveryReport(suite.provider, events);
    console.log(
      `API key refused: ${refusedCalls} calls answered 401 while ${events.length} events waited; ` +
        `after the fix applied ${report.applied}, lost ${report.lost}, double-applied ${report.doubleApplied}`,
    );
    expect(report).toEqual(deliveredOnceInOrder(events.length));
    expect((await suite.provider.stats()).max_applications_per_key).toBe(1);
    expect(await readToEnd(suite.kafka, suite.names.deadLetterTopic)).toHaveLength(0);
    expect(await worker.metric('loyalty_sync_events_dead_lettered_total')).toBe(0);
    // The circuit kept refused calls to a trickle: trials, not one per event.
    expect(refusedCalls).toBeLessThan(events.length);
  }, 180_000);
});
