import { intFrom, LOG_LEVELS, namesFrom, stringMapFrom, variantsFrom } from '../shared/env.ts';

/** The knobs of the pipeline benchmark, all from the environment, each bounded so a run always ends. */
export interface WorkerRunSpec {
  /** provider-sim's simulated latency (PUT /_faults {latency_ms}) during the run. */
  latencyMs: number;
  /** loyalty-sync processes in the consumer group. */
  workers: number;
}

export const PHASES = ['e2e', 'throughput'] as const;
export type Phase = (typeof PHASES)[number];

export interface PipelineBenchConfig {
  phases: Phase[];
  /** PATCHes per second of the end-to-end run, scheduled by the clock (open loop). */
  e2eRate: number;
  /** Seconds of the measured end-to-end run. */
  e2eSeconds: number;
  /** Seconds of an unmeasured run at the same rate before it (JIT, connection pools, caches). */
  e2eWarmupSeconds: number;
  /** Longest wait after the last PATCH for its update to reach the provider. */
  e2eDrainSeconds: number;
  /** Users (each with a session) the PATCHes rotate across. */
  users: number;
  /** Of those, how many register and log in through the API (the rest are inserted directly). */
  apiUsers: number;
  /** Synthetic events per throughput run with a fast provider (latency 0). */
  events: number;
  /** The same for runs with a slow provider (latency > 0), so each run stays near a minute. */
  slowEvents: number;
  /** Distinct users (keys) the synthetic events are spread over. */
  eventUsers: number;
  runs: WorkerRunSpec[];
  /** Partitions of each throughput run's topic (12, as profile.events.v1). */
  workerPartitions: number;
  /** Longest a throughput run may take before it is reported as incomplete. */
  runTimeoutS: number;
  /** Entry script of loyalty-sync; another path benchmarks a variant (e.g. a patched copy under /tmp). */
  workerScript: string | undefined;
  workerLogLevel: string;
  /** More environment for every worker (BENCH_WORKER_ENV, a JSON object), e.g. a variant's switches. */
  workerEnv: Record<string, string>;
  /**
   * The end-to-end run once per entry, in order, each on fresh databases, topic and group: name →
   * OTEL_* environment for its processes, each with its own OTEL_SERVICE_NAME (they run with the
   * images' telemetry preload, which traces only when these name an exporter). BENCH_TRACE_VARIANTS
   * (e.g. off / 10% / 100%, compared in one table), else one entry from BENCH_TRACE_ENV ({} when unset).
   */
  traceVariants: Record<string, Record<string, string>>;
  /** Workers run under --cpu-prof; a summary of each profile is printed. */
  profile: boolean;
  /** Upper bound on the whole run; past it everything is stopped and the run fails. */
  timeoutS: number;
}

/** "0x1,0x3,50x1,50x3": provider latency in ms × workers. */
function runsFrom(raw: string | undefined): WorkerRunSpec[] {
  const text = raw || '0x1,0x3,50x1,50x3';
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const match = /^(\d+)x(\d+)$/.exec(item);
      const latencyMs = Number(match?.[1]);
      const workers = Number(match?.[2]);
      if (!match || latencyMs > 10_000 || workers < 1 || workers > 12) {
        throw new Error(
          `BENCH_WORKER_RUNS: "${item}" is not <latency ms 0..10000>x<workers 1..12>, e.g. 0x1,50x3`,
        );
      }
      return { latencyMs, workers };
    });
}

export function readPipelineConfig(env: NodeJS.ProcessEnv = process.env): PipelineBenchConfig {
  const phases = namesFrom(env, 'BENCH_PHASES', PHASES, 'phase');
  const e2eRate = intFrom(env, 'BENCH_E2E_RATE', 200, 1, 5_000);
  const e2eSeconds = intFrom(env, 'BENCH_E2E_SECONDS', 60, 1, 600);
  const e2eWarmupSeconds = intFrom(env, 'BENCH_E2E_WARMUP_S', 5, 0, 60);
  const e2eDrainSeconds = intFrom(env, 'BENCH_E2E_DRAIN_S', 30, 1, 300);
  const users = intFrom(env, 'BENCH_E2E_USERS', 200, 1, 10_000);
  const apiUsers = Math.min(users, intFrom(env, 'BENCH_API_USERS', 4, 1, 100));
  const events = intFrom(env, 'BENCH_WORKER_EVENTS', 60_000, 100, 500_000);
  const slowEvents = intFrom(env, 'BENCH_WORKER_SLOW_EVENTS', 20_000, 100, 500_000);
  const eventUsers = intFrom(env, 'BENCH_WORKER_USERS', 5_000, 1, 500_000);
  const runs = runsFrom(env.BENCH_WORKER_RUNS);
  const workerPartitions = intFrom(env, 'BENCH_WORKER_PARTITIONS', 12, 1, 256);
  const runTimeoutS = intFrom(env, 'BENCH_WORKER_RUN_TIMEOUT_S', 90, 5, 3_600);
  const workerLogLevel = env.BENCH_WORKER_LOG_LEVEL || 'warn';
  if (!LOG_LEVELS.includes(workerLogLevel)) {
    throw new Error(`BENCH_WORKER_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const workerEnv = stringMapFrom(env, 'BENCH_WORKER_ENV');
  if (env.BENCH_TRACE_VARIANTS && env.BENCH_TRACE_ENV) {
    throw new Error('BENCH_TRACE_VARIANTS and BENCH_TRACE_ENV: set one of them, not both');
  }
  const traceVariants = variantsFrom(env, 'BENCH_TRACE_VARIANTS', {
    e2e: stringMapFrom(env, 'BENCH_TRACE_ENV'),
  });
  // Each phase's load, plus generous room for containers, seeding, process starts and draining.
  const e2eS = phases.includes('e2e')
    ? Object.keys(traceVariants).length * (e2eWarmupSeconds + e2eSeconds + e2eDrainSeconds + 180)
    : 0;
  const throughputS = phases.includes('throughput') ? runs.length * (runTimeoutS + 90) : 0;
  const timeoutS = intFrom(env, 'BENCH_TIMEOUT_S', e2eS + throughputS + 300, 30, 6 * 3600);
  return {
    phases,
    e2eRate,
    e2eSeconds,
    e2eWarmupSeconds,
    e2eDrainSeconds,
    users,
    apiUsers,
    events,
    slowEvents,
    eventUsers,
    runs,
    workerPartitions,
    runTimeoutS,
    workerScript: env.BENCH_WORKER_SCRIPT || undefined,
    workerLogLevel,
    workerEnv,
    traceVariants,
    profile: env.BENCH_PROFILE === '1' || env.BENCH_PROFILE === 'true',
    timeoutS,
  };
}
