/**
 * HTTP benchmark of profile-api against a floor server doing the same backend work with nothing
 * else (see floor-server.ts), side by side in one run, on the same Redis and MongoDB.
 *
 *   pnpm bench:http            (node --conditions=source bench/http/run.ts)
 *
 * Environment: BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_WARMUP_S (3), BENCH_ROUNDS (2),
 * BENCH_USERS (1000), BENCH_API_USERS (8), BENCH_SCENARIOS (get,patch), BENCH_PROFILE (0),
 * BENCH_API_LOG_LEVEL (warn), BENCH_API_ENV, BENCH_API_VARIANTS, BENCH_TIMEOUT_S; MONGO_URL / REDIS_URL name running services instead
 * of containers. Prints a table and writes .bench/http.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import mongoose, { type mongo } from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { SETTLE_MAX_S, readBenchConfig, type BenchConfig, type ScenarioName } from './config.ts';
import { summarizeProfile, type TimeWindow } from './cpu-profile.ts';
import { PROFILE_PATH, runLoad, stopRunningLoad } from './load.ts';
import {
  containerCpuMeter,
  machineCpuMs,
  portProxyCpuMeter,
  startServer,
  type ServerProcess,
} from './processes.ts';
import {
  TARGET_RATIOS,
  renderBottlenecks,
  renderRuns,
  renderTable,
  summarize,
  verdict,
  type RunRecord,
  type TargetName,
} from './report.ts';
import { seedUsers, type BenchSession } from './seed.ts';
import type { Cleanup } from '../shared/run-support.ts';
import { runBench, shuffled, withDatabase } from '../shared/run-support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT_DIR = path.join(ROOT, '.bench');
const OUTPUT = path.join(OUTPUT_DIR, 'http.json');
const PROFILE_DIR = path.join(OUTPUT_DIR, 'cpu-prof');
const FLOOR_SCRIPT = fileURLToPath(new URL('./floor-server.ts', import.meta.url));
/** The images' preload (`node --import @app/telemetry/register`), as a file: bench has no dependency on it. */
const TELEMETRY_PRELOAD = fileURLToPath(new URL('../../packages/telemetry/src/register.ts', import.meta.url));
const SESSION_TTL_SECONDS = 3_600;
/** Below this many busy cores (database + both servers) the machine has finished a run's work. */
const SETTLED_CORES = 0.1;
const IDLE_SAMPLE_MS = 5_000;
/** High enough that no bench user is ever throttled, while the throttle check itself still runs. */
const UNTHROTTLED = '1000000/min';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the database and both servers are (nearly) idle: requests a run abandoned at its end
 * or on a timeout are still queued in the database, and must not be charged to the next run.
 */
async function settle(meters: (() => number | undefined)[], idleCores = 0): Promise<number> {
  const started = Date.now();
  const busyMs = () => meters.reduce((sum, meter) => sum + (meter() ?? 0), 0);
  while (Date.now() - started < SETTLE_MAX_S * 1000) {
    const before = busyMs();
    await sleep(500);
    if ((busyMs() - before) / 500 < idleCores + SETTLED_CORES) break;
  }
  return Date.now() - started;
}

interface DatabaseStatements {
  requests: number;
  update: number;
  query: number;
  command: number;
}

/**
 * The database's own counters (serverStatus): requests received (round trips: a bulkWrite of many
 * updates is one) and statements by kind (each update of a bulkWrite counts; findAndModify is a
 * command). Undefined when the database does not report them.
 */
async function databaseStatements(db: mongo.Db): Promise<DatabaseStatements | undefined> {
  try {
    const status = await db.admin().command({ serverStatus: 1 });
    const { opcounters, network } = status as {
      opcounters?: Record<string, number>;
      network?: { numRequests?: number };
    };
    if (!opcounters || network?.numRequests === undefined) return undefined;
    return {
      requests: network.numRequests,
      update: opcounters.update ?? 0,
      query: opcounters.query ?? 0,
      command: opcounters.command ?? 0,
    };
  } catch {
    return undefined;
  }
}

/** CPU ms per second that each process burns with no load at all, over IDLE_SAMPLE_MS once settled. */
async function measureIdle(
  meters: Record<string, (() => number | undefined) | undefined>,
  all: (() => number | undefined)[],
): Promise<{ of(name: string): number; total: number; window: TimeWindow }> {
  await settle(all);
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const read = () =>
    Object.fromEntries(Object.entries(meters).map(([name, meter]) => [name, meter?.() ?? 0]));
  const before = read();
  await sleep(IDLE_SAMPLE_MS);
  const after = read();
  const rates = Object.fromEntries(
    Object.keys(meters).map((name) => [name, ((after[name]! - before[name]!) * 1000) / IDLE_SAMPLE_MS]),
  );
  const window = { startUs, endUs: Number(process.hrtime.bigint() / 1000n) };
  const total = Object.values(rates).reduce((sum, rate) => sum + rate, 0);
  return { of: (name) => rates[name] ?? 0, total, window };
}

async function request(
  url: string,
  session: BenchSession,
  method: 'GET' | 'PATCH',
  body?: unknown,
  csrf = true,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (method === 'PATCH') {
    headers['content-type'] = 'application/json';
    if (csrf) headers['x-csrftoken'] = session.csrfToken;
  }
  const response = await fetch(`${url}${PROFILE_PATH}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Before measuring: a sample of the sessions (every API-made one, and a spread of the inserted ones)
 * reads its own profile from the floor and every profile-api variant, with identical bodies, and PATCH
 * works with the CSRF header and is refused without it; so no target can be fast by answering errors.
 * All reads come before any write: each profile-api caches what it read.
 */
async function verifySessions(
  apis: ServerProcess[],
  floor: ServerProcess,
  sessions: BenchSession[],
  viaApi: number,
) {
  const step = Math.max(1, Math.floor(sessions.length / 25));
  const sample = sessions.filter((_, i) => i < viaApi || i % step === 0 || i === sessions.length - 1);
  for (const api of apis)
    for (const session of sample) {
      const fromApi = await request(api.url, session, 'GET');
      if (fromApi.status !== 200 || fromApi.body.email !== session.email) {
        throw new Error(
          `profile-api GET for user ${session.userId}: ${fromApi.status} ${JSON.stringify(fromApi.body)}`,
        );
      }
      const fromFloor = await request(floor.url, session, 'GET');
      const comparable = (body: Record<string, unknown>) => ({ ...body, avatar: null });
      if (
        fromFloor.status !== 200 ||
        !isDeepStrictEqual(comparable(fromFloor.body), comparable(fromApi.body))
      ) {
        throw new Error(
          `floor GET for user ${session.userId} differs:\n api:   ${JSON.stringify(fromApi.body)}\n` +
            ` floor: ${fromFloor.status} ${JSON.stringify(fromFloor.body)}`,
        );
      }
    }
  const [first, last] = [sessions[0]!, sessions[sessions.length - 1]!];
  for (const api of apis) {
    const refused = await request(api.url, last, 'PATCH', { first_name: 'NoCsrf' }, false);
    if (refused.status !== 403) throw new Error(`${api.name} PATCH without CSRF: ${refused.status}, not 403`);
  }
  for (const [target, session] of [
    ...apis.flatMap((api) => [
      [api, first],
      [api, last],
    ]),
    [floor, last],
  ] as [ServerProcess, BenchSession][]) {
    const patched = await request(target.url, session, 'PATCH', { first_name: `Check${target.name}` });
    if (patched.status !== 200 || patched.body.first_name !== `Check${target.name}`) {
      throw new Error(
        `${target.name} PATCH for user ${session.userId}: ${patched.status} ${JSON.stringify(patched.body)}`,
      );
    }
  }
  return sample.length;
}

async function main(config: BenchConfig, cleanup: Cleanup): Promise<void> {
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg()[0]!;
  console.log(
    `bench:http  node ${process.version}, ${os.cpus().length} cores (load average ${os.loadavg()[0]!.toFixed(1)}); ` +
      `${config.connections} connections (PATCH ${config.patchConnections}), ` +
      `${config.durationS} s per run (warm-up ${config.warmupS} s), ${config.rounds} rounds per target, ` +
      `${config.users} users with sessions${config.rate ? `; fixed rate ${config.rate} req/s` : ''}`,
  );
  if (config.profile)
    console.log('BENCH_PROFILE=1: both servers run under --cpu-prof; figures are not comparable');
  if (os.loadavg()[0]! > os.cpus().length / 2) {
    console.log('warning: the machine is already busy; other work on it will skew the figures');
  }

  // Kafka too: profile-api publishes each committed change (PATCH) from its outbox right after it.
  const { startStack, freePort } = await import('@app/testkit');
  const stack = await startStack();
  cleanup.add('containers', () => stack.stop());
  const database = `bench_http_${tag}`;
  const mongoUrl = withDatabase(stack.urls.mongoUrl, database);
  const redisUrl = stack.urls.redisUrl;
  const mongoImage = stack.containers.mongo?.image ?? 'given by MONGO_URL';
  const redisImage = stack.containers.redis?.image ?? 'given by REDIS_URL';
  const kafkaImage = stack.containers.kafka?.image ?? 'given by KAFKA_BROKERS';
  console.log(`MongoDB: ${mongoImage}, database ${database}; Redis: ${redisImage}; Kafka: ${kafkaImage}`);
  const dbCpu = stack.containers.mongo ? containerCpuMeter(Number(new URL(mongoUrl).port)) : undefined;
  if (!dbCpu) console.log('database CPU is not measured (not a container of this run, or not visible)');
  // Where the rest of a request's CPU goes: everything shares the machine's cores.
  const otherCpu = {
    redis: stack.containers.redis ? containerCpuMeter(Number(new URL(redisUrl).port)) : undefined,
    kafka: stack.containers.kafka
      ? containerCpuMeter(Number(stack.urls.kafkaBrokers.split(',')[0]!.split(':').at(-1)))
      : undefined,
    proxy: portProxyCpuMeter(
      [mongoUrl, redisUrl, `tcp://${stack.urls.kafkaBrokers.split(',')[0]!}`].map((url) =>
        Number(new URL(url).port),
      ),
    ),
    bench: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    },
    machine: machineCpuMs() === undefined ? undefined : machineCpuMs,
  };

  const admin = await mongoose.createConnection(mongoUrl, mongoClientOptions()).asPromise();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  let redisError: unknown;
  redis.on('error', (error: unknown) => (redisError = error));
  let sessions: BenchSession[] = [];
  cleanup.add('bench data', async () => {
    const keys = sessions.map((session) => `session:${session.sessionId}`);
    const removed = await Promise.allSettled([
      (async () => {
        for (let start = 0; start < keys.length; start += 500)
          await redis.del(...keys.slice(start, start + 500));
      })(),
      admin.dropDatabase(),
    ]);
    redis.disconnect();
    await admin.close(true);
    const failed = removed.find((result) => result.status === 'rejected');
    if (failed)
      throw new Error(`${String(failed.reason)}${redisError ? ` (Redis: ${String(redisError)})` : ''}`);
  });
  if (!admin.db) throw new Error('no MongoDB database handle');

  const profileArgs = (name: string) =>
    config.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}-${tag}.cpuprofile`]
      : [];
  const serverEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' };
  const variantNames = Object.keys(config.apiVariants);
  const apis: Record<string, ServerProcess> = {};
  for (const variant of variantNames) {
    // One child per variant: `profile-api` alone, `profile-api-<variant>` when several run side by side.
    const name = variantNames.length > 1 ? `profile-api-${variant}` : 'profile-api';
    // A variant may name a script of its own: e.g. the code before a change against the code after it.
    // And a telemetry preload of its own (BENCH_API_PRELOAD): e.g. the tracing set-up before a change.
    const {
      BENCH_API_SCRIPT: variantScript,
      BENCH_API_PRELOAD: variantPreload,
      ...variantEnv
    } = config.apiVariants[variant]!;
    const server = await startServer({
      name,
      script: variantScript ?? config.apiScript ?? fileURLToPath(import.meta.resolve('@app/profile-api')),
      port: await freePort(),
      // The images' preload: tracing when the environment sets OTEL_*, nothing otherwise.
      nodeArgs: [...profileArgs(name), '--import', variantPreload ?? TELEMETRY_PRELOAD],
      env: {
        ...serverEnv,
        HOST: '127.0.0.1',
        MONGO_URL: mongoUrl,
        REDIS_URL: redisUrl,
        KAFKA_BROKERS: stack.urls.kafkaBrokers,
        SECRET_KEY: 'bench-secret-key-with-at-least-32-characters',
        ADMIN_TOKEN: 'bench-admin-token-0123456789',
        SMS_GATEWAY: 'log',
        ALLOW_LOG_SMS_GATEWAY: 'true', // production mode, but no SMS is sent by a benchmark
        LOG_LEVEL: config.apiLogLevel,
        THROTTLING_SETTINGS: JSON.stringify({
          login: UNTHROTTLED,
          register: UNTHROTTLED,
          'profile-update': UNTHROTTLED,
          'phone-verification': UNTHROTTLED,
        }),
        ...config.apiEnv,
        ...variantEnv,
      },
    });
    cleanup.add(name, () => server.stop());
    apis[variant] = server;
  }
  const api = apis[variantNames[0]!]!;
  const floor = await startServer({
    name: 'floor',
    script: FLOOR_SCRIPT,
    port: await freePort(),
    nodeArgs: profileArgs('floor'),
    env: { ...serverEnv, MONGO_URL: mongoUrl, REDIS_URL: redisUrl },
  });
  cleanup.add('floor', () => floor.stop());
  console.log(
    `${Object.values(apis)
      .map((server) => `${server.name} pid ${server.pid} at ${server.url}`)
      .join(', ')} (NODE_ENV=production, LOG_LEVEL=${config.apiLogLevel}: ` +
      `per-request log lines are ${config.apiLogLevel === 'info' || config.apiLogLevel === 'debug' || config.apiLogLevel === 'trace' ? 'written' : 'not built'}; ` +
      `throttling limits ${UNTHROTTLED}); floor pid ${floor.pid} at ${floor.url}`,
  );

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
  const verified = await verifySessions(Object.values(apis), floor, sessions, config.apiUsers);
  console.log(
    `seeded ${sessions.length} users + sessions (${config.apiUsers} through the API, the rest directly) ` +
      `in ${Date.now() - seedStarted} ms; ${verified} sessions verified on both servers`,
  );

  // Storage order is id order; a shuffled rotation spreads every run over early and late users alike.
  const rotation = shuffled(sessions);
  const targets: Record<TargetName, ServerProcess> = { floor, ...apis };
  const targetNames: TargetName[] = ['floor', ...variantNames];
  const sequence = { next: 0 };
  const runs: RunRecord[] = [];
  const meters = [...targetNames.map((name) => () => targets[name]!.cpuMs()), ...(dbCpu ? [dbCpu] : [])];
  const idle = await measureIdle(
    {
      ...Object.fromEntries(targetNames.map((name) => [name, () => targets[name]!.cpuMs()])),
      db: dbCpu,
      ...otherCpu,
    },
    meters,
  );
  console.log(
    `idle background (CPU ms per s, taken out of cpu/req below): ` +
      `${targetNames.map((name) => `${name} ${idle.of(name).toFixed(1)}`).join(', ')}, ` +
      `database ${dbCpu ? idle.of('db').toFixed(1) : '-'}, ` +
      `${Object.entries(otherCpu)
        .map(([name, meter]) => `${name} ${meter ? idle.of(name).toFixed(1) : '-'}`)
        .join(', ')}`,
  );
  const load = async (scenario: ScenarioName, target: TargetName, durationS: number) => {
    const statementsBefore = await databaseStatements(admin.db!);
    const figures = await runLoad({
      scenario,
      url: targets[target]!.url,
      sessions: rotation,
      connections: scenario === 'patch' ? config.patchConnections : config.connections,
      durationS,
      timeoutS: config.requestTimeoutS,
      rate: config.rate,
      sequence,
      cpuMeters: {
        server: () => targets[target]!.cpuMs(),
        ...(dbCpu ? { db: dbCpu } : {}),
        ...Object.fromEntries(Object.entries(otherCpu).filter(([, meter]) => meter)),
      },
      idleCpuMsPerSecond: {
        server: idle.of(target),
        db: idle.of('db'),
        ...Object.fromEntries(Object.keys(otherCpu).map((name) => [name, idle.of(name)])),
      },
    });
    const settledMs = await settle(meters, idle.total / 1000);
    if (settledMs > 2_000)
      console.log(`    (waited ${settledMs} ms for the database to drain that run's work)`);
    const statements = await databaseStatements(admin.db!);
    const answered = figures.requests2xx + figures.non2xx;
    if (statements && statementsBefore && answered > 0) {
      const per = (name: keyof DatabaseStatements) =>
        ((statements[name] - statementsBefore[name]) / answered).toFixed(2);
      console.log(
        `    database per request (serverStatus, run and drain): ${per('requests')} requests; ` +
          `${per('update')} updates, ${per('query')} queries, ${per('command')} commands`,
      );
    }
    return figures;
  };
  for (const scenario of config.scenarios) {
    if (config.warmupS > 0) {
      for (const target of targetNames) {
        const warm = await load(scenario, target, config.warmupS);
        console.log(
          `  ${scenario.padEnd(5)} ${target.padEnd(5)} warm-up: ${warm.reqPerSec.toFixed(0)} req/s`,
        );
      }
    }
    for (let round = 1; round <= config.rounds; round += 1) {
      // Each round starts one target later (floor, api / api, floor; with variants a, b: floor a b,
      // a b floor, b floor a): no target always runs first or last on a warming or busy machine.
      const shift = (round - 1) % targetNames.length;
      const order = [...targetNames.slice(shift), ...targetNames.slice(0, shift)];
      for (const target of order) {
        const figures = await load(scenario, target, config.durationS);
        const record = { scenario, target, round, figures };
        runs.push(record);
        console.log(renderRuns([record]));
      }
    }
  }

  const summaries = summarize(runs, config.scenarios, variantNames);
  console.log(
    `\nbest of ${config.rounds} runs per target; cpu ms/req: CPU (user + system) per answered request ` +
      'of the server process (srv) and of the database container (db), net of their idle background\n',
  );
  console.log(renderTable(summaries));
  const failures = summaries.some(({ floor, variants }) =>
    [floor, ...variants.map((variant) => variant.figures)].some((f) => f.non2xx + f.errors > 0),
  );
  if (failures)
    console.log('\nwarning: some reported runs had non-2xx responses or errors; their figures are suspect');
  console.log(`\n${renderBottlenecks(summaries)}`);
  const line = verdict(summaries);
  if (line) console.log(`\n${line}`);

  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(
    OUTPUT,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        loadAverageAtStart,
        finishedAt: new Date().toISOString(),
        config,
        environment: {
          node: process.version,
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          mongo: mongoImage,
          redis: redisImage,
          kafka: kafkaImage,
          apiLogLevel: config.apiLogLevel,
          throttling: UNTHROTTLED,
          users: sessions.length,
        },
        summary: summaries,
        targets: summaries.flatMap((s) =>
          s.variants.map((variant) => ({
            scenario: s.scenario,
            variant: variant.name,
            ratio: TARGET_RATIOS[s.scenario],
            measured: variant.ratio,
            met: variant.ratio >= TARGET_RATIOS[s.scenario],
          })),
        ),
        runs,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`figures written to ${path.relative(process.cwd(), OUTPUT) || OUTPUT}`);

  if (config.profile) {
    await floor.stop();
    for (const server of Object.values(apis)) await server.stop();
    for (const target of targetNames) {
      const name = targets[target]!.name;
      for (const scenario of config.scenarios) {
        const windows = runs
          .filter((run) => run.target === target && run.scenario === scenario)
          .map((run) => run.figures.window);
        const file = path.join(PROFILE_DIR, `${name}-${tag}.cpuprofile`);
        console.log(
          `\n${summarizeProfile(file, 30, windows, ` during the measured ${scenario.toUpperCase()} runs`)}`,
        );
      }
      const file = path.join(PROFILE_DIR, `${name}-${tag}.cpuprofile`);
      console.log(`\n${summarizeProfile(file, 15, [idle.window], ' while idle (no load)')}`);
    }
  }
}

const config = readBenchConfig();
await runBench('bench:http', config.timeoutS, (cleanup) => main(config, cleanup), stopRunningLoad);
