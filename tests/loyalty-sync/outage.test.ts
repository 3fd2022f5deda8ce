import { waitFor } from '@app/testkit';
import {
  deliveredOnceInOrder,
  deliveryReport,
  produceEvents,
  readToEnd,
  updateStream,
} from '../support/loyalty-sync.ts';
import { startLoyaltySuite, type LoyaltySuite } from '../support/loyalty-suite.ts';
import type { WorkerProcess } from '../support/workers.ts';

const USERS = 24;
const VERSIONS = 6;
/** The outage is the scenario itself, so its length is a timer; every outcome is waited for. */
const OUTAGE_MS = 30_000;

describe('loyalty-sync during a provider outage', () => {
  let suite: LoyaltySuite;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    suite = await startLoyaltySuite('outage', {
      workerEnv: { BREAKER_RESET_TIMEOUT_MS: '5000', CONSUMER_SESSION_TIMEOUT_MS: '10000' },
    });
    // One after the other, so the second joins a group that already exists.
    workers.push(await suite.spawnWorker('outage-worker-1'));
    workers.push(await suite.spawnWorker('outage-worker-2'));
  }, 120_000);

  afterAll(() => suite?.stop());

  test('when the provider is down for 30 s, then the circuit opens, the partitions pause, and after recovery every update arrives once and in order', async () => {
    const events = updateStream(2_001, USERS, VERSIONS);
    const beforeOutage = events.slice(0, USERS * 2);
    const duringOutage = events.slice(USERS * 2);
    await produceEvents(suite.producer, suite.names.topic, beforeOutage);
    await waitFor(
      'the first updates to be applied',
      async () => (await suite.provider.stats()).applied === beforeOutage.length,
      {
        timeoutMs: 60_000,
      },
    );

    await suite.provider.faults({ down: true });
    const outageStarted = Date.now();
    await produceEvents(suite.producer, suite.names.topic, duringOutage);

    for (const worker of workers) {
      await waitFor(
        `${worker.name} to open its circuit and pause its partitions`,
        async () =>
          (await worker.metric('loyalty_sync_breaker_transitions_total', { state: 'open' })) >= 1 &&
          (await worker.metric('loyalty_sync_partition_pauses_total')) >= 1,
        { timeoutMs: OUTAGE_MS },
      );
    }
    const pausedDuringOutage = await Promise.all(
      workers.map((worker) => worker.metric('loyalty_sync_paused_partitions')),
    );
    const rejectedDuringOutage = (await suite.provider.stats()).rejected_by_fault;
    expect((await suite.provider.stats()).applied).toBe(beforeOutage.length);

    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))),
    );
    await suite.provider.clearFaults();

    await waitFor(
      'every update to be applied after recovery',
      async () => (await suite.provider.stats()).applied >= events.length,
      {
        timeoutMs: 90_000,
        intervalMs: 250,
      },
    );
    await waitFor('both groups to commit everything', () => suite.groupCaughtUp(), {
      timeoutMs: 30_000,
    });
    for (const worker of workers) {
      await waitFor(`${worker.name} to close its circuit and resume`, async () => {
        return (
          (await worker.metric('loyalty_sync_breaker_state')) === 0 &&
          (await worker.metric('loyalty_sync_paused_partitions')) === 0
        );
      });
    }

    const report = await deliveryReport(suite.provider, events);
    const deadLettered = await readToEnd(suite.kafka, suite.names.deadLetterTopic);
    const stats = await suite.provider.stats();
    console.log(
      `provider outage ${OUTAGE_MS / 1000} s: produced ${events.length} (${duringOutage.length} during the outage), ` +
        `applied ${report.applied}, lost ${report.lost}, double-applied ${report.doubleApplied}, ` +
        `out-of-order users ${report.outOfOrderUsers}, dead-lettered ${deadLettered.length}, ` +
        `calls refused by the outage ${stats.rejected_by_fault} (${rejectedDuringOutage} by the time both circuits had opened), ` +
        `paused partitions per worker during the outage ${pausedDuringOutage.join('/')}, ` +
        `circuit openings ${(await Promise.all(workers.map((w) => w.metric('loyalty_sync_breaker_transitions_total', { state: 'open' })))).join('/')}`,
    );
    expect(report).toEqual(deliveredOnceInOrder(events.length));
    expect(stats.max_applications_per_key).toBe(1);
    expect(deadLettered).toHaveLength(0);
    // The circuit kept the calls during the outage to a trickle: trial calls, not one per event.
    expect(stats.rejected_by_fault).toBeLessThan(duringOutage.length);
  }, 240_000);
});
