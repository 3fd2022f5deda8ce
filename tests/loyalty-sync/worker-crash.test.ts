import { PROFILE_EVENTS_PARTITIONS } from '@app/events';
import { waitFor } from '@app/testkit';
import {
  deliveredOnceInOrder,
  deliveryReport,
  produceEvents,
  updateStream,
} from '../support/loyalty-sync.ts';
import { startLoyaltySuite, type LoyaltySuite } from '../support/loyalty-suite.ts';
import { totalMetric, type WorkerProcess } from '../support/workers.ts';

const USERS = 60;
const VERSIONS = 10;
const WORKERS = 3;

/** Partitions each worker holds after its latest join (from its own log). */
function heldPartitions(worker: WorkerProcess): number[] {
  const joins = worker.logs.filter((entry) => entry.msg === 'joined the consumer group');
  return (joins.at(-1)?.partitions as number[] | undefined) ?? [];
}

describe('loyalty-sync when a worker dies', () => {
  let suite: LoyaltySuite;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    suite = await startLoyaltySuite('crash', {
      // The group notices a silent member after this long (the broker's minimum is 6 s).
      workerEnv: { CONSUMER_SESSION_TIMEOUT_MS: '10000', LOG_LEVEL: 'info' },
    });
    for (let index = 1; index <= WORKERS; index += 1)
      workers.push(await suite.spawnWorker(`crash-worker-${index}`));
    await waitFor(
      'the three workers to share the twelve partitions',
      () =>
        workers.every((worker) => heldPartitions(worker).length > 0) &&
        workers.reduce((sum, worker) => sum + heldPartitions(worker).length, 0) === PROFILE_EVENTS_PARTITIONS,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }, 180_000);

  afterAll(() => suite?.stop());

  test('when one of three workers is killed mid-load, then the others take over and every update is applied exactly once, in order', async () => {
    // Slow enough that the load is still running when the worker dies.
    await suite.provider.faults({ latency_ms: 40 });
    const events = updateStream(4_001, USERS, VERSIONS);
    const victim = workers[0]!;
    const victimPartitions = heldPartitions(victim);
    const producing = produceEvents(suite.producer, suite.names.topic, events, 50);

    await waitFor(
      'a quarter of the load to be applied',
      async () => (await suite.provider.stats()).applied >= events.length / 4,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    const appliedByVictim = victim.logCount('event synced');
    const exit = await victim.kill();
    const appliedAtKill = (await suite.provider.stats()).applied;
    await producing;

    await waitFor(
      'every update to be applied',
      async () => (await suite.provider.stats()).applied >= events.length,
      {
        timeoutMs: 120_000,
        intervalMs: 250,
      },
    );
    await waitFor('the survivors to commit everything', () => suite.groupCaughtUp(), {
      timeoutMs: 30_000,
    });

    const survivors = workers.slice(1);
    const redeliveredSkipped = await totalMetric(survivors, 'loyalty_sync_events_skipped_total', {
      reason: 'stale',
    });
    const report = await deliveryReport(suite.provider, events);
    const stats = await suite.provider.stats();
    console.log(
      `worker SIGKILL: produced ${events.length} for ${USERS} users, victim held partitions [${victimPartitions.join(',')}] ` +
        `and had synced ${appliedByVictim}, ${appliedAtKill} applied in all at the kill; ` +
        `applied ${report.applied}, lost ${report.lost}, double-applied ${report.doubleApplied}, ` +
        `out-of-order users ${report.outOfOrderUsers}, stale users ${report.staleUsers}, ` +
        `redeliveries skipped by the version check ${redeliveredSkipped}, answered as replays by the provider ${stats.replayed}`,
    );
    expect(exit.signal).toBe('SIGKILL');
    expect(appliedByVictim).toBeGreaterThan(0);
    expect(survivors.flatMap(heldPartitions).sort((a, b) => a - b)).toEqual(
      Array.from({ length: PROFILE_EVENTS_PARTITIONS }, (_, partition) => partition),
    );
    expect(report).toEqual(deliveredOnceInOrder(events.length));
    expect(stats.max_applications_per_key).toBe(1);
    for (const survivor of survivors) expect(survivor.exitStatus()).toBeUndefined();
  }, 300_000);
});
