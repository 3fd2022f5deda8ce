/**
 * Worker throughput: a fresh topic is filled with synthetic events first, then the worker(s) start
 * in a fresh consumer group (from the beginning) against a fresh database and a reset provider-sim,
 * and the run lasts until provider-sim has applied every event (GET /stats, polled).
 *
 * The rate is taken from the moment the whole group is consuming (every worker's /readyz is 200,
 * i.e. it joined the group's latest generation) to the moment the last event is applied, over the
 * events applied in between; so the start-up of a process and the rebalances while the others
 * join are not charged to it. The rate from the first worker's readiness is reported beside it.
 */
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '@app/kafka';
import { eventStream, produceEvents } from './events.ts';
import type { ProviderSimClient } from './provider.ts';
import { cpuWindow, sleep, type CpuMeters } from './stats.ts';
import { startWorker, workerFigures, type Worker, type WorkerFigures } from './workers.ts';
import { processCpuMs, type ServerProcess } from '../http/processes.ts';

const POLL_MS = 100;
/** Users whose provider history is checked for order after a run. */
const ORDER_CHECK_USERS = 200;

export interface ThroughputContext {
  kafka: Kafka;
  brokers: string;
  redisUrl: string;
  /** A database per run: mongoUrlFor(name). */
  mongoUrlFor: (database: string) => string;
  provider: ProviderSimClient;
  providerProcess: ServerProcess;
  workerScript: string;
  workerLogLevel: string;
  workerEnv: Record<string, string>;
  loyaltyApiKey: string;
  /** Meters of the containers (database, Kafka) to report their busy cores. */
  containerMeters: CpuMeters;
  /** Registers an undo step that runs whatever stops the benchmark. */
  onCleanup: (name: string, step: () => Promise<unknown>) => void;
  /** node --cpu-prof into this folder, when set. */
  profileDir: string | undefined;
  tag: string;
}

export interface ThroughputSpec {
  index: number;
  latencyMs: number;
  workers: number;
  events: number;
  users: number;
  /** Partitions of the run's topic (BENCH_WORKER_PARTITIONS): 1 measures what one partition carries. */
  partitions: number;
  timeoutS: number;
}

export interface ThroughputResult {
  latencyMs: number;
  workers: number;
  events: number;
  users: number;
  partitions: number;
  produceMs: number;
  /** From spawning the workers to every one of them ready. */
  startMs: number;
  /** Applied before the whole group was consuming (by the first worker(s), during rebalances). */
  appliedBeforeAllReady: number;
  applied: number;
  complete: boolean;
  /** Seconds from all ready to the last event applied (or the timeout). */
  measuredS: number;
  eventsPerSec: number;
  eventsPerSecPerWorker: number;
  /** applied ÷ seconds from the first worker's readiness: start-up rebalances included. */
  overallEventsPerSec: number;
  /** Busy cores during the measured window: the worker(s) together, provider-sim, containers. */
  cores: Record<string, number | undefined>;
  perWorker: WorkerFigures[];
  duplicates: number;
  replayed: number;
  /** Of a sample of users, those whose versions did not reach the provider in strictly increasing order. */
  outOfOrderUsers: number;
  checkedUsers: number;
  profiles: string[];
  /** The measured window on the monotonic clock (µs), for CPU profiles. */
  window: { startUs: number; endUs: number };
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export async function runThroughput(ctx: ThroughputContext, spec: ThroughputSpec): Promise<ThroughputResult> {
  const name = `tp${spec.index}-${spec.latencyMs}ms-${spec.workers}w`;
  const topic = `bench.pipeline.${ctx.tag}.${name}`;
  const group = `bench-pipeline-${ctx.tag}-${name}`;
  const database = `bench_pipeline_${ctx.tag}_tp${spec.index}`;

  await ensureTopics(ctx.kafka, [{ topic, numPartitions: spec.partitions }]);
  const events = eventStream(spec.events, spec.users);
  const producer = ctx.kafka.producer();
  await producer.connect();
  const produceStarted = performance.now();
  try {
    await produceEvents(producer, topic, events);
  } finally {
    await producer.disconnect();
  }
  const produceMs = performance.now() - produceStarted;

  await ctx.provider.reset();
  await ctx.provider.setLatency(spec.latencyMs);

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    LOG_LEVEL: ctx.workerLogLevel,
    KAFKA_BROKERS: ctx.brokers,
    MONGO_URL: ctx.mongoUrlFor(database),
    REDIS_URL: ctx.redisUrl,
    PROFILE_EVENTS_TOPIC: topic,
    PROFILE_EVENTS_PARTITIONS: String(spec.partitions),
    CONSUMER_GROUP: group,
    CONSUMER_FROM_BEGINNING: 'true',
    CUSTOMER_LOYALTY_CARD_SERVICE: JSON.stringify({
      enabled: true,
      base_url: ctx.provider.url,
      api_key: ctx.loyaltyApiKey,
      timeout_ms: 5_000,
      sync_all_updates: false,
    }),
    ...ctx.workerEnv,
  };
  const profiles: string[] = [];
  const workers: Worker[] = [];
  const readyAt: number[] = [];
  const spawnedAt = performance.now();
  const started = await Promise.allSettled(
    Array.from({ length: spec.workers }, async (_, i) => {
      const workerName = `loyalty-sync-${name}-${i + 1}`;
      const profileName = `${workerName}-${ctx.tag}.cpuprofile`;
      if (ctx.profileDir) profiles.push(path.join(ctx.profileDir, profileName));
      const worker = await startWorker({
        name: workerName,
        script: ctx.workerScript,
        env,
        nodeArgs: ctx.profileDir
          ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${profileName}`]
          : [],
      });
      readyAt.push(performance.now());
      workers.push(worker);
      return worker;
    }),
  );
  const stopWorkers = () => Promise.allSettled(workers.map((worker) => worker.stop()));
  ctx.onCleanup(`workers of ${name}`, stopWorkers);
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;

  const allReady = performance.now();
  const window = { startUs: monotonicUs(), endUs: 0 };
  const meters: CpuMeters = {
    [spec.workers === 1 ? 'worker' : `${spec.workers} workers`]: () =>
      workers.reduce<number | undefined>((sum, worker) => {
        const ms = processCpuMs(worker.pid);
        return sum === undefined || ms === undefined ? undefined : sum + ms;
      }, 0),
    'provider-sim': () => ctx.providerProcess.cpuMs(),
    ...ctx.containerMeters,
  };
  const cpu = cpuWindow(meters);
  const appliedBeforeAllReady = (await ctx.provider.stats()).applied;
  const deadline = allReady + spec.timeoutS * 1000;
  let applied = appliedBeforeAllReady;
  let doneAt = performance.now();
  while (applied < spec.events && performance.now() < deadline) {
    await sleep(POLL_MS);
    // One slow answer of a busy provider-sim does not end the run; the deadline still does.
    const stats = await ctx.provider.stats().catch(() => undefined);
    if (stats) {
      applied = stats.applied;
      doneAt = performance.now();
    }
  }
  window.endUs = monotonicUs();
  const cores = cpu.cores();
  const stats = await ctx.provider.stats();
  const perWorker = await Promise.all(workers.map((worker) => workerFigures(worker)));
  await stopWorkers();
  const checked = Array.from({ length: Math.min(ORDER_CHECK_USERS, spec.users) }, (_, i) => i + 1);
  const histories = await ctx.provider.histories(checked);
  const outOfOrderUsers = [...histories.values()].filter((history) => {
    const versions = history.map((entry) => Number(entry.payload.profile_version));
    return versions.some((version, i) => i > 0 && version <= versions[i - 1]!);
  }).length;

  const measuredS = (doneAt - allReady) / 1000;
  const eventsPerSec = measuredS > 0 ? (applied - appliedBeforeAllReady) / measuredS : 0;
  const firstReady = Math.min(...readyAt);
  return {
    latencyMs: spec.latencyMs,
    workers: spec.workers,
    events: spec.events,
    users: spec.users,
    partitions: spec.partitions,
    produceMs,
    startMs: allReady - spawnedAt,
    appliedBeforeAllReady,
    applied,
    complete: applied >= spec.events,
    measuredS,
    eventsPerSec,
    eventsPerSecPerWorker: eventsPerSec / spec.workers,
    overallEventsPerSec: applied / ((doneAt - firstReady) / 1000),
    cores,
    perWorker,
    duplicates: stats.duplicate_applications,
    replayed: stats.replayed,
    outOfOrderUsers,
    checkedUsers: checked.length,
    profiles,
    window,
  };
}
