import type { ProfileUpdatedEvent } from '@app/events';
import { startKafka, waitFor, type ServiceContainer } from '@app/testkit';
import {
  deliveredOnceInOrder,
  deliveryReport,
  produceEvents,
  updateStream,
} from '../support/loyalty-sync.ts';
import { startLoyaltySuite, type LoyaltySuite } from '../support/loyalty-suite.ts';
import { totalMetric, type WorkerProcess } from '../support/workers.ts';

const USERS = 30;
const VERSIONS = 10;

describe('loyalty-sync when the Kafka broker restarts', () => {
  let broker: ServiceContainer;
  let suite: LoyaltySuite;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    // A broker of its own: restarting the shared one would disturb other suites.
    broker = await startKafka();
    suite = await startLoyaltySuite('broker', {
      brokers: broker.url,
      workerEnv: { CONSUMER_SESSION_TIMEOUT_MS: '10000' },
      kafkaLogLevel: 'fatal',
    });
    workers.push(await suite.spawnWorker('broker-worker-1'));
    workers.push(await suite.spawnWorker('broker-worker-2'));
  }, 180_000);

  afterAll(async () => {
    await suite?.stop();
    await broker?.stop();
  });

  test('when the broker restarts mid-load, then no update is lost or applied twice, and each user stays in order', async () => {
    await suite.provider.faults({ latency_ms: 20 });
    const events = updateStream(5_001, USERS, VERSIONS);
    const firstPart = events.slice(0, 100);
    const rest = events.slice(100);
    await produceEvents(suite.producer, suite.names.topic, firstPart, 20);
    await waitFor(
      'the workers to be busy with the first records',
      async () => (await suite.provider.stats()).applied >= 30,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );

    const appliedAtRestart = (await suite.provider.stats()).applied;
    const restart = broker.restart();
    // Produced one by one while the broker goes away and comes back: the producer retries.
    const sent: ProfileUpdatedEvent[] = [...firstPart];
    for (const event of rest) {
      await produceEvents(suite.producer, suite.names.topic, [event]);
      sent.push(event);
    }
    await restart;

    await waitFor(
      'every update to be applied',
      async () => (await suite.provider.stats()).applied >= events.length,
      {
        timeoutMs: 180_000,
        intervalMs: 500,
      },
    );
    await waitFor('the group to commit everything', () => suite.groupCaughtUp(), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });

    const report = await deliveryReport(suite.provider, sent);
    const stats = await suite.provider.stats();
    const redeliveredSkipped = await totalMetric(workers, 'loyalty_sync_events_skipped_total', {
      reason: 'stale',
    });
    const crashes = workers.map((worker) => worker.logCount('consumer crashed; kafkajs restarts it'));
    console.log(
      `Kafka restart: produced ${sent.length}, ${appliedAtRestart} applied when the broker restarted; ` +
        `applied ${report.applied}, lost ${report.lost}, double-applied ${report.doubleApplied}, ` +
        `out-of-order users ${report.outOfOrderUsers}, stale users ${report.staleUsers}, ` +
        `redeliveries skipped by the version check ${redeliveredSkipped}, answered as replays ${stats.replayed}, consumer restarts by kafkajs per worker ${crashes.join('/')}`,
    );
    expect(report).toEqual(deliveredOnceInOrder(events.length));
    expect(stats.max_applications_per_key).toBe(1);
    // They rode out the restart: nobody had to restart them.
    for (const worker of workers) expect(worker.exitStatus()).toBeUndefined();
    for (const worker of workers) expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
  }, 360_000);
});
