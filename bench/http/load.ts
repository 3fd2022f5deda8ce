import os from 'node:os';
import autocannon from 'autocannon';
import type { ScenarioName } from './config.ts';
import type { BenchSession } from './seed.ts';

export const PROFILE_PATH = '/users/profile/';

export interface LoadSpec {
  scenario: ScenarioName;
  url: string;
  /**
   * Taken in this order from the first for every run, so each target meets the same users in the
   * same order, so neither meets a warmer cache than the other.
   */
  sessions: readonly BenchSession[];
  connections: number;
  durationS: number;
  /** Bumped per PATCH across runs, so every PATCH sets a first_name the user does not have yet. */
  sequence: { next: number };
  /** Request timeout, in seconds. */
  timeoutS: number;
  /** Requests per second over all connections; undefined: unbounded. */
  rate?: number;
  /** CPU time so far (ms) of processes to charge each run its share of: the server, the database. */
  cpuMeters?: Partial<Record<CpuMeterName, () => number | undefined>>;
  /** What each meter burns per second with no load (timers, pollers), taken out of cpuMsPerRequest. */
  idleCpuMsPerSecond?: Partial<Record<CpuMeterName, number>>;
}

/**
 * The server, the database, Redis and Kafka containers, the engine's port proxies to them, this
 * process (the load generator) and the
 * machine as a whole (every core, every process: what the others leave is other work on the machine).
 */
export type CpuMeterName = 'server' | 'db' | 'redis' | 'kafka' | 'proxy' | 'bench' | 'machine';

export interface LoadFigures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  requests2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  statusCodes: Record<string, number>;
  /**
   * CPU (user + system) per answered request, in ms, of the server and of the database, net of
   * their idle background (idleCpuMsPerSecond × the run's wall time).
   */
  cpuMsPerRequest: Partial<Record<CpuMeterName, number>>;
  /** The same, including the idle background. */
  cpuMsPerRequestGross: Partial<Record<CpuMeterName, number>>;
  /** 1-minute load average of the machine when the run ended (other work on it skews figures). */
  loadAverage: number;
  /** When the run started and ended on the monotonic clock (µs), the clock of V8 CPU profiles. */
  window: { startUs: number; endUs: number };
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

function readMeters(meters: LoadSpec['cpuMeters']): Partial<Record<CpuMeterName, number>> {
  const readings: Partial<Record<CpuMeterName, number>> = {};
  for (const [name, meter] of Object.entries(meters ?? {}) as [CpuMeterName, () => number | undefined][]) {
    const value = meter();
    if (value !== undefined) readings[name] = value;
  }
  return readings;
}

let running: autocannon.Instance | undefined;

/** Stops the run in progress (SIGINT); its promise settles with what was measured so far. */
export function stopRunningLoad(): void {
  running?.stop();
}

/**
 * One autocannon run: `connections` keep-alive connections for `durationS` seconds, each request
 * taking the next of the sessions in turn (its cookie, and for PATCH its CSRF header and a body).
 */
export async function runLoad(spec: LoadSpec): Promise<LoadFigures> {
  const { sessions, sequence } = spec;
  let index = 0;
  const nextSession = () => sessions[index++ % sessions.length]!;
  const method = spec.scenario === 'get' ? 'GET' : 'PATCH';
  const request: autocannon.Request =
    method === 'GET'
      ? {
          method,
          path: PROFILE_PATH,
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: nextSession().cookie } }),
        }
      : {
          method,
          path: PROFILE_PATH,
          setupRequest: (req) => {
            const n = sequence.next++;
            const session = nextSession();
            return {
              ...req,
              headers: {
                ...req.headers,
                cookie: session.cookie,
                'x-csrftoken': session.csrfToken,
                'content-type': 'application/json',
              },
              body: JSON.stringify({ first_name: `Bench${n}` }),
            };
          },
        };

  const cpuBefore = readMeters(spec.cpuMeters);
  const startedAt = performance.now();
  const startUs = monotonicUs();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    running = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationS,
        timeout: spec.timeoutS,
        ...(spec.rate ? { overallRate: spec.rate } : {}),
        requests: [request],
      },
      (error: unknown, finished: autocannon.Result) => (error ? reject(error) : resolve(finished)),
    );
  }).finally(() => {
    running = undefined;
  });
  const cpuAfter = readMeters(spec.cpuMeters);
  const wallS = (performance.now() - startedAt) / 1000;
  const endUs = monotonicUs();

  const answered = result['2xx'] + result.non2xx;
  const perRequest = (charge: (name: CpuMeterName, usedMs: number) => number) =>
    Object.fromEntries(
      (Object.entries(cpuAfter) as [CpuMeterName, number][])
        .filter(([name]) => cpuBefore[name] !== undefined && answered > 0)
        .map(([name, after]) => [name, charge(name, after - cpuBefore[name]!) / answered]),
    );
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  return {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.average,
    maxMs: result.latency.max,
    requests2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    statusCodes,
    cpuMsPerRequest: perRequest((name, used) =>
      Math.max(0, used - (spec.idleCpuMsPerSecond?.[name] ?? 0) * wallS),
    ),
    cpuMsPerRequestGross: perRequest((_, used) => used),
    loadAverage: os.loadavg()[0]!,
    window: { startUs, endUs },
  };
}
