import { intFrom, LOG_LEVELS, namesFrom, stringMapFrom, variantsFrom } from '../shared/env.ts';

/** The knobs of the HTTP benchmark, all from the environment, each bounded so a run always ends. */
export interface BenchConfig {
  /** Seconds of each measured run. */
  durationS: number;
  /** Concurrent keep-alive connections of each run. */
  connections: number;
  /** The same for PATCH runs (writes cost the database more than reads); BENCH_CONNECTIONS by default. */
  patchConnections: number;
  /** Seconds before a request counts as an error (timeout). */
  requestTimeoutS: number;
  /**
   * Requests per second for all connections together; undefined: as fast as they go. A fixed rate
   * compares CPU per request of the targets at the same load, whatever bounds their throughput.
   */
  rate: number | undefined;
  /** Seconds of the unmeasured warm-up run per scenario and target. */
  warmupS: number;
  /** Measured runs per scenario and target; the best is reported. */
  rounds: number;
  /** Users, each with a session of its own, that the load rotates across. */
  users: number;
  /** Of those, how many register and log in through the API (the rest are inserted directly). */
  apiUsers: number;
  scenarios: ScenarioName[];
  /** Writes a V8 CPU profile of the profile-api child to .bench/cpu-prof/ when it stops. */
  profile: boolean;
  /** Log level of the profile-api child under load. */
  apiLogLevel: string;
  /** Entry script of profile-api; another path benchmarks a variant (e.g. a patched copy under /tmp). */
  apiScript: string | undefined;
  /**
   * More environment for the profile-api child (BENCH_API_ENV, a JSON object of strings), e.g. the
   * OTEL_* variables that turn tracing on: it runs with the same telemetry preload as the images.
   */
  apiEnv: Record<string, string>;
  /**
   * profile-api variants measured side by side in one run (BENCH_API_VARIANTS, a JSON object of
   * name → environment added to apiEnv): one child each, interleaved with the floor round by round.
   * `{ api: {} }` when unset. The first is the baseline the others are divided by.
   */
  apiVariants: Record<string, Record<string, string>>;
  /** Upper bound on the whole run; past it everything is stopped and the run fails. */
  timeoutS: number;
}

export const SCENARIOS = ['get', 'patch'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Longest wait after a run for the database to finish work the run left queued. */
export const SETTLE_MAX_S = 30;

export function readBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const durationS = intFrom(env, 'BENCH_DURATION_S', 10, 1, 300);
  const connections = intFrom(env, 'BENCH_CONNECTIONS', 50, 1, 1_000);
  const patchConnections = intFrom(env, 'BENCH_PATCH_CONNECTIONS', connections, 1, 1_000);
  const requestTimeoutS = intFrom(env, 'BENCH_REQUEST_TIMEOUT_S', 10, 1, 120);
  const rate = intFrom(env, 'BENCH_RATE', 0, 0, 100_000) || undefined;
  const warmupS = intFrom(env, 'BENCH_WARMUP_S', 3, 0, 60);
  const rounds = intFrom(env, 'BENCH_ROUNDS', 2, 1, 10);
  const users = intFrom(env, 'BENCH_USERS', 1_000, 1, 100_000);
  const apiUsers = Math.min(users, intFrom(env, 'BENCH_API_USERS', 8, 1, 1_000));
  const scenarios = namesFrom(env, 'BENCH_SCENARIOS', SCENARIOS, 'scenario');
  const apiLogLevel = env.BENCH_API_LOG_LEVEL || 'warn';
  if (!LOG_LEVELS.includes(apiLogLevel)) throw new Error(`BENCH_API_LOG_LEVEL must be one of ${LOG_LEVELS}`);
  const apiVariants = variantsFrom(env, 'BENCH_API_VARIANTS', { api: {} });
  // Load time, plus generous room for containers, seeding and the pauses between runs.
  const loadS =
    scenarios.length *
    (1 + Object.keys(apiVariants).length) *
    (warmupS + rounds * (durationS + 1 + SETTLE_MAX_S));
  const timeoutS = intFrom(env, 'BENCH_TIMEOUT_S', loadS + 600, 30, 6 * 3600);
  return {
    durationS,
    connections,
    patchConnections,
    requestTimeoutS,
    rate,
    warmupS,
    rounds,
    users,
    apiUsers,
    scenarios,
    profile: env.BENCH_PROFILE === '1' || env.BENCH_PROFILE === 'true',
    apiLogLevel,
    apiScript: env.BENCH_API_SCRIPT || undefined,
    apiEnv: stringMapFrom(env, 'BENCH_API_ENV'),
    apiVariants,
    timeoutS,
  };
}
