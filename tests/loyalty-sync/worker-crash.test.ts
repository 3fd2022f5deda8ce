import type { Kafka, Producer } from 'kafkajs';
import { PROFILE_EVENTS_PARTITIONS } from '@app/events';
import { createIdempotentProducer, createKafka, ensureTopics } from '@app/kafka';
import { startProviderSim, type RunningProviderSim } from '@app/provider-sim';
import { createLogger } from '@app/service-kit';
import { waitFor } from '@app/testkit';
import { stackUrls } from '../support/env.ts';
import {
  LOYALTY_API_KEY,
  LoyaltyProvider,
  deliveryReport,
  groupCaughtUp,
  produceEvents,
  suiteNames,
  updateStream,
  workerEnv,
} from '../support/loyalty-sync.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

const USERS = 60;
const VERSIONS = 10;
const WORKERS = 3;

/** Partitions each worker holds after its latest join (from its own log). */
function heldPartitions(worker: WorkerProcess): number[] {
  const joins = worker.logs.filter((entry) => entry.msg === 'joined the consumer group');
  return (joins.at(-1)?.partitions as number[] | undefined) ?? [];
}

describe('loyalty-sync when a worker dies', () => {
  const names = suiteNames('crash');
  let sim: RunningProviderSim;
  let provider: LoyaltyProvider;
  let kafka: Kafka;
  let producer: Producer;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    const { kafkaBrokers, redisUrl } = stackUrls();
    sim = await startProviderSim({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'warn',
      loyaltyApiKey: LOYALTY_API_KEY,
    });
    provider = new LoyaltyProvider(sim.url);
    kafka = createKafka({
      brokers: kafkaBrokers,
      clientId: 'loyalty-crash-test',
      logger: createLogger('loyalty-crash-test', { level: 'error' }),
    });
    await ensureTopics(kafka, [{ topic: names.topic, numPartitions: PROFILE_EVENTS_PARTITIONS }]);
    producer = createIdempotentProducer(kafka);
    await producer.connect();
    const env = workerEnv(names, {
      brokers: kafkaBrokers,
      redisUrl,
      providerUrl: sim.url,
      // The group notices a silent member after this long (the broker's minimum is 6 s).
      extra: { CONSUMER_SESSION_TIMEOUT_MS: '10000', LOG_LEVEL: 'info' },
    });
    for (let index = 1; index <= WORKERS; index += 1)
      workers.push(await spawnWorker(`crash-worker-${index}`, env));
    await waitFor(
      'the three workers to share the twelve partitions',
      () =>
        workers.every((worker) => heldPartitions(worker).length > 0) &&
        workers.reduce((sum, worker) => sum + heldPartitions(worker).length, 0) === PROFILE_EVENTS_PARTITIONS,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await producer?.disconnect();
    await sim?.close();
  });

  test('when one of three workers is killed mid-load, then the others take over and every update is applied exactly once, in order', async () => {
    // Slow enough that the load is still running when the worker dies.
    await provider.faults({ latency_ms: 40 });
    const events = updateStream(4_001, USERS, VERSIONS);
    const victim = workers[0]!;
    const victimPartitions = heldPartitions(victim);
    const producing = produceEvents(producer, names.topic, events, 50);

    await waitFor(
      'a quarter of the load to be applied',
      async () => (await provider.stats()).applied >= events.length / 4,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    const appliedByVictim = victim.logCount('event synced');
    const exit = await victim.kill();
    const appliedAtKill = (await provider.stats()).applied;
    await producing;

    await waitFor(
      'every update to be applied',
      async () => (await provider.stats()).applied >= events.length,
      {
        timeoutMs: 120_000,
        intervalMs: 250,
      },
    );
    await waitFor(
      'the survivors to commit everything',
      () => groupCaughtUp(kafka, names.group, names.topic),
      {
        timeoutMs: 30_000,
      },
    );

    const survivors = workers.slice(1);
    const redeliveredSkipped = (
      await Promise.all(
        survivors.map((worker) => worker.metric('loyalty_sync_events_skipped_total', { reason: 'stale' })),
      )
    ).reduce((sum, count) => sum + count, 0);
    const report = await deliveryReport(provider, events);
    const stats = await provider.stats();
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
    expect(report).toEqual({
      expected: events.length,
      applied: events.length,
      lost: 0,
      doubleApplied: 0,
      outOfOrderUsers: 0,
      staleUsers: 0,
    });
    expect(stats.max_applications_per_key).toBe(1);
    for (const survivor of survivors) expect(survivor.exitStatus()).toBeUndefined();
  }, 300_000);
});
