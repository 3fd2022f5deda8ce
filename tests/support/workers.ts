import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { TELEMETRY_PRELOAD } from './profile-api-process.ts';
import { waitFor } from '@app/testkit';

const ROOT = path.join(__dirname, '../..');
/** The project's Node 24 (the machine's node may be older); jest's own node otherwise. */
const NODE = existsSync(path.join(ROOT, '.tools/node/bin/node'))
  ? path.join(ROOT, '.tools/node/bin/node')
  : process.execPath;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LogLine = Record<string, unknown> & { msg?: string };

export interface WorkerProcess {
  name: string;
  /** Health/metrics server of the worker. */
  url: string;
  child: ChildProcess;
  /** Every JSON log line the worker printed so far. */
  logs: LogLine[];
  /** undefined while it runs. */
  exitStatus(): ExitStatus | undefined;
  exited: Promise<ExitStatus>;
  /** Sum of the samples of a metric whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  logCount(message: string): number;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<ExitStatus>;
  /** SIGKILL: no shutdown, nothing committed or left. */
  kill(): Promise<ExitStatus>;
}

/** A metric summed over several workers: what the group as a whole did (e.g. redeliveries skipped). */
export async function totalMetric(
  workers: WorkerProcess[],
  name: string,
  labels?: Record<string, string>,
): Promise<number> {
  const values = await Promise.all(workers.map((worker) => worker.metric(name, labels)));
  return values.reduce((sum, value) => sum + value, 0);
}

/** Minimal environment: a worker sees only what the test gives it (no NODE_ENV=test from jest). */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

/** Parses Prometheus text format: metric name, labels, value. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

/**
 * Starts `node --conditions=source services/loyalty-sync/src/start.ts` as its own OS process with
 * the given environment and waits until /readyz answers 200 (consumer joined, Mongo, Redis up).
 */
export async function spawnWorker(
  name: string,
  env: Record<string, string>,
  { readyTimeoutMs = 60_000 }: { readyTimeoutMs?: number } = {},
): Promise<WorkerProcess> {
  const child = spawn(
    NODE,
    ['--conditions=source', ...TELEMETRY_PRELOAD, 'services/loyalty-sync/src/start.ts'],
    {
      cwd: ROOT,
      env: { ...baseEnv(), LOG_LEVEL: 'info', ...env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: LogLine[] = [];
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    }),
  );
  const exitedError = () =>
    new Error(`${name} exited with ${status?.code ?? status?.signal}: ${lastLines(logs)}`);
  const echo = process.env.TEST_WORKER_LOGS === '1';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (echo) process.stderr.write(`[${name}] ${line}\n`);
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: line });
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));

  const port = await waitFor(
    `${name} to listen`,
    () => {
      if (status) throw exitedError();
      const listening = logs.find((entry) => entry.msg === 'loyalty-sync listening');
      return listening ? (listening.port as number) : undefined;
    },
    { timeoutMs: readyTimeoutMs, intervalMs: 100 },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `${name} to be ready`,
    async () => {
      if (status) throw exitedError();
      return (await fetch(`${url}/readyz`)).status === 200;
    },
    { timeoutMs: readyTimeoutMs, intervalMs: 200 },
  );

  const signal = async (kind: NodeJS.Signals) => {
    if (!status) child.kill(kind);
    return exited;
  };
  return {
    name,
    url,
    child,
    logs,
    exitStatus: () => status,
    exited,
    async metric(metricName, labels) {
      // A worker that died says why, instead of a bare ECONNREFUSED from its port.
      if (status) throw exitedError();
      const response = await fetch(`${url}/metrics`);
      return sumMetric(await response.text(), metricName, labels);
    },
    logCount: (message) => logs.filter((entry) => entry.msg === message).length,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}

function lastLines(logs: LogLine[]): string {
  return logs
    .slice(-3)
    .map((entry) => JSON.stringify(entry))
    .join(' | ');
}

/** Stops every worker still running (SIGTERM), in parallel. */
export async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.stop()));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script of the repository (e.g. a CLI) as a process with only the given environment. */
export async function runNodeScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<CliResult> {
  const child = spawn(NODE, ['--conditions=source', ...TELEMETRY_PRELOAD, script, ...args], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (exitCode) => resolve(exitCode)),
  );
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs a loyalty-sync CLI (src/cli/<script>) as a process and collects its output. */
export function runLoyaltySyncCli(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<CliResult> {
  return runNodeScript(`services/loyalty-sync/src/cli/${script}`, args, env, timeoutMs);
}
