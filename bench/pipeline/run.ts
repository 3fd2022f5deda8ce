/**
 * Pipeline benchmark: profile-api → outbox relay → Kafka → loyalty-sync → loyalty card service
 * (provider-sim), on real containers, every service a process of its own.
 *
 *   pnpm bench:pipeline            (node --conditions=source bench/pipeline/run.ts)
 *
 * 1. End-to-end latency: PATCH /users/profile-with-loyalty/ at BENCH_E2E_RATE (200) per second for
 *    BENCH_E2E_SECONDS (60), open loop, across BENCH_E2E_USERS (200) users; from each answer to
 *    provider-sim applying that update (its customer history's applied_at).
 * 2. Worker throughput: BENCH_WORKER_EVENTS (20000) synthetic events (BENCH_WORKER_SLOW_EVENTS, 6000,
 *    with a slow provider) over BENCH_WORKER_USERS (5000) users, produced first; then the worker(s)
 *    start. BENCH_WORKER_RUNS (0x1,0x3,50x1,50x3): provider latency ms × workers.
 *
 * Also: BENCH_PHASES (e2e,throughput), BENCH_E2E_WARMUP_S (5), BENCH_E2E_DRAIN_S (30),
 * BENCH_API_USERS (4), BENCH_WORKER_RUN_TIMEOUT_S (120), BENCH_WORKER_LOG_LEVEL (warn),
 * BENCH_WORKER_SCRIPT (a variant's start.ts), BENCH_PROFILE (0; workers under --cpu-prof),
 * BENCH_TIMEOUT_S; MONGO_URL / REDIS_URL / KAFKA_BROKERS name running services instead of containers.
 * Prints tables and writes .bench/pipeline.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { ensureTopics } from '@app/kafka';
import { summarizeProfile } from '../http/cpu-profile.ts';
import { containerCpuMeter, startServer, type ServerProcess } from '../http/processes.ts';
import { seedUsers, type BenchSession } from '../http/seed.ts';
import { readPipelineConfig, type PipelineBenchConfig } from './config.ts';
import { measureWriteCeiling, type WriteCeiling } from './db-ceiling.ts';
import { LOYALTY_PATH, driveUpdates, matchDeliveries, type EndToEndFigures } from './e2e.ts';
import { readRecordTimes, stageFigures, type StageFigures } from './stages.ts';
import { ProviderSimClient } from './provider.ts';
import {
  busiest,
  renderEndToEnd,
  renderStages,
  renderTargets,
  renderThroughput,
  renderVariants,
  targetRows,
} from './report.ts';
import { cpuWindow, formatCores, sleep, type CpuMeters } from './stats.ts';
import { runThroughput, type ThroughputContext, type ThroughputResult } from './throughput.ts';
import { startWorker, workerFigures, workerScript } from './workers.ts';
import type { Cleanup } from '../shared/run-support.ts';
import { runBench, shuffled, withDatabase } from '../shared/run-support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT_DIR = path.join(ROOT, '.bench');
const OUTPUT = path.join(OUTPUT_DIR, 'pipeline.json');
const PROFILE_DIR = path.join(OUTPUT_DIR, 'cpu-prof');
const SESSION_TTL_SECONDS = 3_600;
const LOYALTY_API_KEY = 'bench-loyalty-api-key';
/** High enough that no bench user is ever throttled, while the throttle check itself still runs. */
const UNTHROTTLED = '1000000/min';
const E2E_PARTITIONS = 12;
/** The images' preload (`node --import @app/telemetry/register`): traces only when a variant's env says so. */
const TELEMETRY_ARGS = [
  '--import',
  fileURLToPath(new URL('../../packages/telemetry/src/register.ts', import.meta.url)),
];
/** A trace variant's environment for one service of the end-to-end phase, under its own name. */
const traced = (traceEnv: Record<string, string>, service: string): Record<string, string> =>
  Object.keys(traceEnv).length > 0 ? { ...traceEnv, OTEL_SERVICE_NAME: service } : {};

/**
 * provider-sim is started once for every variant, so it takes the first variant's exporter settings
 * with a parent-based sampler that never starts a trace: it records a call exactly when the worker's
 * call was sampled, whichever variant made it.
 */
function providerTraceEnv(config: PipelineBenchConfig): Record<string, string> {
  const exporting = Object.values(config.traceVariants).find((env) => Object.keys(env).length > 0);
  return exporting ? { ...exporting, OTEL_TRACES_SAMPLER: 'parentbased_always_off' } : {};
}

/** One entry of BENCH_TRACE_VARIANTS (or the one run of BENCH_TRACE_ENV). */
interface TraceVariant {
  name: string;
  env: Record<string, string>;
  /** '' for a single variant (the names of earlier runs), `-<n>` for each of several. */
  suffix: string;
}
/** Before measuring: one PATCH must reach the provider within this long (the pipeline works). */
const FIRST_DELIVERY_TIMEOUT_MS = 60_000;
const STAGE_READ_TIMEOUT_MS = 30_000;
/** Draining ends once the provider applied nothing new for this long. */
const QUIET_MS = 2_000;
const WRITE_CEILING_SECONDS = 5;

interface Shared {
  config: PipelineBenchConfig;
  cleanup: Cleanup;
  tag: string;
  urls: { mongoUrl: string; redisUrl: string; kafkaBrokers: string };
  kafka: Kafka;
  provider: ProviderSimClient;
  providerProcess: ServerProcess;
  containerMeters: CpuMeters;
  /** Databases this run created, dropped at the end. */
  databases: Set<string>;
  serverEnv: NodeJS.ProcessEnv;
}

interface EndToEndRecord {
  figures: EndToEndFigures;
  stages: StageFigures;
  cores: Record<string, number | undefined>;
  drainMs: number;
  ceiling: WriteCeiling;
  worker: Awaited<ReturnType<typeof workerFigures>>;
}

/**
 * Polls provider-sim until it applied at least `count` updates and then nothing more for
 * QUIET_MS (a PATCH that timed out here may still have been committed, and is delivered too),
 * or the time is up.
 */
async function waitForApplied(
  provider: ProviderSimClient,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let applied = (await provider.stats()).applied;
  let changedAt = Date.now();
  while (Date.now() < deadline && (applied < count || Date.now() - changedAt < QUIET_MS)) {
    await sleep(100);
    const now = (await provider.stats()).applied;
    if (now !== applied) changedAt = Date.now();
    applied = now;
  }
  return applied;
}

async function endToEnd(shared: Shared, variant: TraceVariant): Promise<EndToEndRecord> {
  const { config, cleanup, tag, urls, provider } = shared;
  const database = `bench_pipeline_${tag}_e2e${variant.suffix.replace('-', '_')}`;
  shared.databases.add(database);
  const mongoUrl = withDatabase(urls.mongoUrl, database);
  const topic = `bench.pipeline.${tag}.e2e${variant.suffix}`;
  await ensureTopics(shared.kafka, [{ topic, numPartitions: E2E_PARTITIONS }]);
  await provider.reset();

  const { freePort } = await import('@app/testkit');
  const api = await startServer({
    name: 'profile-api',
    script: fileURLToPath(import.meta.resolve('@app/profile-api')),
    port: await freePort(),
    nodeArgs: TELEMETRY_ARGS,
    env: {
      ...traced(variant.env, 'profile-api'),
      ...shared.serverEnv,
      HOST: '127.0.0.1',
      MONGO_URL: mongoUrl,
      REDIS_URL: urls.redisUrl,
      KAFKA_BROKERS: urls.kafkaBrokers,
      PROFILE_EVENTS_TOPIC: topic,
      SECRET_KEY: 'bench-secret-key-with-at-least-32-characters',
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      SMS_GATEWAY: 'log',
      ALLOW_LOG_SMS_GATEWAY: 'true', // production mode, but no SMS is sent by a benchmark
      LOG_LEVEL: 'warn',
      THROTTLING_SETTINGS: JSON.stringify({
        login: UNTHROTTLED,
        register: UNTHROTTLED,
        'profile-update': UNTHROTTLED,
        'phone-verification': UNTHROTTLED,
      }),
    },
  });
  cleanup.add('profile-api', () => api.stop());
  const worker = await startWorker({
    name: 'loyalty-sync-e2e',
    script: workerScript(config.workerScript),
    nodeArgs: TELEMETRY_ARGS,
    env: {
      ...traced(variant.env, 'loyalty-sync'),
      ...shared.serverEnv,
      LOG_LEVEL: config.workerLogLevel,
      KAFKA_BROKERS: urls.kafkaBrokers,
      // profile-api's database: the live settings are shared as in the stack.
      MONGO_URL: mongoUrl,
      REDIS_URL: urls.redisUrl,
      PROFILE_EVENTS_TOPIC: topic,
      CONSUMER_GROUP: `bench-pipeline-${tag}-e2e${variant.suffix}`,
      CUSTOMER_LOYALTY_CARD_SERVICE: JSON.stringify({
        enabled: true,
        base_url: provider.url,
        api_key: LOYALTY_API_KEY,
        timeout_ms: 5_000,
        sync_all_updates: false,
      }),
      ...config.workerEnv,
    },
  });
  cleanup.add('loyalty-sync (e2e)', () => worker.stop());
  console.log(
    `profile-api pid ${api.pid} (LOG_LEVEL=warn, throttling ${UNTHROTTLED}), loyalty-sync pid ${worker.pid} ` +
      `(LOG_LEVEL=${config.workerLogLevel}), topic ${topic} (${E2E_PARTITIONS} partitions)`,
  );

  const admin = await mongoose.createConnection(mongoUrl, mongoClientOptions()).asPromise();
  const redis = new Redis(urls.redisUrl, { maxRetriesPerRequest: 3 });
  let sessions: BenchSession[] = [];
  cleanup.add('e2e sessions', async () => {
    const keys = sessions.map((session) => `session:${session.sessionId}`);
    for (let start = 0; start < keys.length; start += 500) await redis.del(...keys.slice(start, start + 500));
    await Promise.allSettled([redis.quit(), admin.close()]);
    redis.disconnect();
  });
  if (!admin.db) throw new Error('no MongoDB database handle');
  const seedStarted = Date.now();
  sessions = await seedUsers({
    apiUrl: api.url,
    db: admin.db,
    redis,
    total: config.users,
    viaApi: config.apiUsers,
    runTag: tag,
    sessionTtlSeconds: SESSION_TTL_SECONDS,
  });
  const rotation = shuffled(sessions);
  console.log(
    `seeded ${sessions.length} users + sessions (${config.apiUsers} through the API) in ${Date.now() - seedStarted} ms`,
  );
  const ceiling = await measureWriteCeiling(admin.db, WRITE_CEILING_SECONDS);
  console.log(
    `database ceiling (${ceiling.documents} user copies, ${WRITE_CEILING_SECONDS} s each, 20 concurrent): ` +
      `${ceiling.writesPerSec.toFixed(0)} one-field updates/s by _id, ${ceiling.readsPerSec.toFixed(0)} reads/s by _id; ` +
      `a PATCH needs at least 2 writes, so at most ~${(ceiling.writesPerSec / 2).toFixed(0)} PATCH/s here`,
  );

  // The pipeline works before anything is measured: one update reaches the provider.
  const first = await driveUpdates({
    apiUrl: api.url,
    sessions: rotation,
    rate: 1,
    seconds: 1,
    markerPrefix: `c${tag}-`,
  });
  const check = first.updates[0];
  if (!check?.committed) throw new Error(`the first PATCH ${LOYALTY_PATH} failed: status ${check?.status}`);
  let expected = 1;
  if ((await waitForApplied(provider, expected, FIRST_DELIVERY_TIMEOUT_MS)) < expected) {
    throw new Error(`no update reached provider-sim within ${FIRST_DELIVERY_TIMEOUT_MS} ms`);
  }
  console.log(`first update delivered ${Date.now() - check.answeredAt!} ms after its answer`);

  let index = 1;
  if (config.e2eWarmupSeconds > 0) {
    const warm = await driveUpdates({
      apiUrl: api.url,
      sessions: rotation,
      rate: config.e2eRate,
      seconds: config.e2eWarmupSeconds,
      markerPrefix: `w${tag}-`,
      firstIndex: index,
    });
    index += warm.updates.length;
    expected += warm.updates.filter((update) => update.committed).length;
    const applied = await waitForApplied(provider, expected, config.e2eDrainSeconds * 1000);
    const answered = warm.updates.filter((update) => update.answeredAt !== undefined);
    const apiMs = answered.reduce((sum, update) => sum + update.answeredAt! - update.sentAt, 0);
    console.log(
      `warm-up: ${warm.updates.length} PATCHes in ${config.e2eWarmupSeconds} s, ${expected - 1} committed ` +
        `(mean answer ${answered.length ? (apiMs / answered.length).toFixed(0) : '-'} ms), ` +
        `provider applied ${applied - 1}`,
    );
  }

  const meters: CpuMeters = {
    'profile-api': () => api.cpuMs(),
    'loyalty-sync': () => worker.cpuMs(),
    'provider-sim': () => shared.providerProcess.cpuMs(),
    ...shared.containerMeters,
  };
  const cpu = cpuWindow(meters);
  console.log(
    `measuring: ${config.e2eRate} PATCH/s for ${config.e2eSeconds} s (open loop), ${rotation.length} users`,
  );
  const drive = await driveUpdates({
    apiUrl: api.url,
    sessions: rotation,
    rate: config.e2eRate,
    seconds: config.e2eSeconds,
    markerPrefix: `m${tag}-`,
    firstIndex: index,
  });
  const cores = cpu.cores();
  expected += drive.updates.filter((update) => update.committed).length;
  const drainStarted = Date.now();
  await waitForApplied(provider, expected, config.e2eDrainSeconds * 1000);
  const drainMs = Date.now() - drainStarted;
  const histories = await provider.histories(sessions.map((session) => session.userId));
  const figures = matchDeliveries(drive, Math.round(config.e2eRate * config.e2eSeconds), histories);
  const records = await readRecordTimes(shared.kafka, topic, expected, STAGE_READ_TIMEOUT_MS);
  const stages = stageFigures(drive.updates, records, histories);
  if (figures.missingMarkers.length > 0) {
    // Where a missing update stopped: before Kafka (still in an outbox) or after it (the worker).
    const inKafka = figures.missingMarkers.filter((marker) => records.has(marker));
    const pending = await admin.db.collection('users').countDocuments({ 'outbox.0': { $exists: true } });
    console.log(
      `missing ${figures.missingMarkers.join(', ')}: ${inKafka.length} of them in Kafka ` +
        `(${inKafka.join(', ') || 'none'}); users with a non-empty outbox now: ${pending}\n` +
        `profile-api's last output:\n${api.output().slice(-3_000)}\nloyalty-sync's last output:\n${worker.output().slice(-3_000)}`,
    );
  }
  const record = { figures, stages, cores, drainMs, ceiling, worker: await workerFigures(worker) };
  await worker.stop();
  await api.stop();
  return record;
}

function endToEndJson(record: EndToEndRecord) {
  return {
    ...record.figures,
    stages: record.stages,
    busyCores: record.cores,
    drainMs: record.drainMs,
    worker: record.worker,
  };
}

async function throughputPhase(shared: Shared): Promise<ThroughputResult[]> {
  const { config } = shared;
  if (config.profile) mkdirSync(PROFILE_DIR, { recursive: true });
  const ctx: ThroughputContext = {
    kafka: shared.kafka,
    brokers: shared.urls.kafkaBrokers,
    redisUrl: shared.urls.redisUrl,
    mongoUrlFor: (database) => {
      shared.databases.add(database);
      return withDatabase(shared.urls.mongoUrl, database);
    },
    provider: shared.provider,
    providerProcess: shared.providerProcess,
    workerScript: workerScript(config.workerScript),
    workerLogLevel: config.workerLogLevel,
    workerEnv: config.workerEnv,
    loyaltyApiKey: LOYALTY_API_KEY,
    containerMeters: shared.containerMeters,
    onCleanup: (name, step) => shared.cleanup.add(name, step),
    profileDir: config.profile ? PROFILE_DIR : undefined,
    tag: shared.tag,
  };
  const results: ThroughputResult[] = [];
  for (const [i, run] of config.runs.entries()) {
    const events = run.latencyMs > 0 ? config.slowEvents : config.events;
    const result = await runThroughput(ctx, {
      index: i + 1,
      latencyMs: run.latencyMs,
      workers: run.workers,
      events,
      users: Math.min(config.eventUsers, events),
      partitions: config.workerPartitions,
      timeoutS: config.runTimeoutS,
    });
    results.push(result);
    console.log(
      `  latency ${run.latencyMs} ms, ${run.workers} worker(s): ${result.eventsPerSec.toFixed(0)} events/s ` +
        `(${result.eventsPerSecPerWorker.toFixed(0)} per worker; ${result.overallEventsPerSec.toFixed(0)} incl. start-up), ` +
        `${result.applied}/${result.events} applied in ${result.measuredS.toFixed(1)} s` +
        `${result.complete ? '' : ' (TIMEOUT)'}; produced in ${result.produceMs.toFixed(0)} ms, ` +
        `workers ready in ${result.startMs.toFixed(0)} ms, ${result.appliedBeforeAllReady} applied before all were; ` +
        `busy cores: ${formatCores(result.cores)}; per worker applied: ` +
        `${result.perWorker.map((worker) => worker.applied).join('/')}` +
        `${result.duplicates > 0 ? `; ${result.duplicates} DUPLICATE applications` : ''}` +
        `; order checked for ${result.checkedUsers} users: ${result.outOfOrderUsers} out of order`,
    );
    for (const file of result.profiles) {
      console.log(`\n${summarizeProfile(file, 20, [result.window], ' during the measured window')}\n`);
    }
  }
  return results;
}

async function main(config: PipelineBenchConfig, cleanup: Cleanup): Promise<void> {
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg()[0]!;
  console.log(
    `bench:pipeline  node ${process.version}, ${os.cpus().length} cores (load average ${loadAverageAtStart.toFixed(1)}); ` +
      `phases ${config.phases.join(', ')}`,
  );
  if (loadAverageAtStart > os.cpus().length / 2) {
    console.log('warning: the machine is already busy; other work on it will skew the figures');
  }

  const { startStack } = await import('@app/testkit');
  const stack = await startStack();
  cleanup.add('containers', () => stack.stop());
  const images = {
    mongo: stack.containers.mongo?.image ?? 'given by MONGO_URL',
    redis: stack.containers.redis?.image ?? 'given by REDIS_URL',
    kafka: stack.containers.kafka?.image ?? 'given by KAFKA_BROKERS',
  };
  console.log(`MongoDB: ${images.mongo}; Redis: ${images.redis}; Kafka: ${images.kafka}`);
  const containerMeters: CpuMeters = {};
  for (const [name, url] of [
    ['db', stack.containers.mongo ? new URL(stack.urls.mongoUrl).port : undefined],
    ['kafka', stack.containers.kafka ? stack.urls.kafkaBrokers.split(':').at(-1) : undefined],
  ] as const) {
    const meter = url ? containerCpuMeter(Number(url)) : undefined;
    if (meter) containerMeters[name] = meter;
  }

  const kafka = new Kafka({
    clientId: `bench-pipeline-${tag}`,
    brokers: stack.urls.kafkaBrokers.split(','),
    logLevel: logLevel.ERROR,
  });
  const databases = new Set<string>();
  cleanup.add('bench databases and topics', async () => {
    const connection = await mongoose.createConnection(stack.urls.mongoUrl, mongoClientOptions()).asPromise();
    try {
      for (const database of databases) await connection.useDb(database).dropDatabase();
    } finally {
      await connection.close();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`bench.pipeline.${tag}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  });

  const { freePort } = await import('@app/testkit');
  const serverEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' };
  const providerProcess = await startServer({
    name: 'provider-sim',
    script: fileURLToPath(import.meta.resolve('@app/provider-sim')),
    port: await freePort(),
    nodeArgs: TELEMETRY_ARGS,
    env: {
      ...providerTraceEnv(config),
      ...serverEnv,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      LOYALTY_API_KEY,
    },
  });
  cleanup.add('provider-sim', () => providerProcess.stop());
  const provider = new ProviderSimClient(providerProcess.url);
  console.log(`provider-sim pid ${providerProcess.pid} at ${provider.url}`);

  const shared: Shared = {
    config,
    cleanup,
    tag,
    urls: stack.urls,
    kafka,
    provider,
    providerProcess,
    containerMeters,
    databases,
    serverEnv,
  };

  const variants = Object.entries(config.traceVariants).map(([name, env], index, all) => ({
    name,
    env,
    suffix: all.length > 1 ? `-${index + 1}` : '',
  }));
  const e2eRuns: { name: string; record: EndToEndRecord }[] = [];
  if (config.phases.includes('e2e')) {
    for (const variant of variants) {
      const named = variants.length > 1 ? ` (tracing: ${variant.name})` : '';
      console.log(`\n== end-to-end latency${named}: PATCH answered → provider-sim applied ==`);
      const record = await endToEnd(shared, variant);
      e2eRuns.push({ name: variant.name, record });
      console.log(`\n${renderEndToEnd(record.figures)}\n\n${renderStages(record.stages)}`);
      console.log(
        `busy cores while measuring: ${formatCores(record.cores)} (busiest: ${busiest(record.cores)}); drained in ${record.drainMs} ms; ` +
          `worker: ${record.worker.applied} applied, provider call ${record.worker.providerCallMeanMs?.toFixed(1) ?? '-'} ms mean`,
      );
    }
    if (e2eRuns.length > 1) {
      console.log(
        `\n== the end-to-end runs side by side (÷ ${e2eRuns[0]!.name}) ==\n${renderVariants(
          e2eRuns.map(({ name, record }) => ({ name, figures: record.figures, cores: record.cores })),
        )}`,
      );
    }
  }
  // The targets are the first variant's (tracing off when the variants are off / 10% / 100%).
  const e2e = e2eRuns[0]?.record;

  let throughput: ThroughputResult[] = [];
  if (config.phases.includes('throughput')) {
    console.log(
      `\n== worker throughput: ${config.events} events (provider latency 0), ${config.slowEvents} ` +
        `(latency > 0), over up to ${config.eventUsers} users, produced before the workers start ==`,
    );
    throughput = await throughputPhase(shared);
    console.log(`\n${renderThroughput(throughput)}`);
    console.log(
      '\nevents/s: from every worker ready to the last event applied; incl. start: from the first worker ready.',
    );
  }

  const targets = targetRows(e2e?.figures, throughput);
  console.log(`\n== targets ==\n${renderTargets(targets)}`);

  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(
    OUTPUT,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        loadAverageAtStart,
        config,
        environment: {
          node: process.version,
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          images,
          workerScript: workerScript(config.workerScript),
        },
        endToEnd: e2e && endToEndJson(e2e),
        endToEndVariants:
          e2eRuns.length > 1
            ? Object.fromEntries(e2eRuns.map(({ name, record }) => [name, endToEndJson(record)]))
            : undefined,
        throughput: throughput.map(({ window: _window, ...result }) => result),
        targets,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`figures written to ${path.relative(process.cwd(), OUTPUT) || OUTPUT}`);
}

const config = readPipelineConfig();
// kafkajs 2.2.4 arms a timer with a negative delay (RequestQueue), which Node 24 warns about and runs
// at once: harmless, and printed on every run otherwise. Every other warning is still printed.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning')
    console.error(`warning: ${warning.stack ?? warning.message}`);
});
await runBench('bench:pipeline', config.timeoutS, (cleanup) => main(config, cleanup));
