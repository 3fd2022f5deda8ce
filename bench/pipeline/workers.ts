/** loyalty-sync worker processes for the benchmark: started through bench/http's process helper. */
import { fileURLToPath } from 'node:url';
import { freePort } from '@app/testkit';
import { startServer, type ServerProcess } from '../http/processes.ts';
import { sleep, sumMetric } from './stats.ts';

const READY_TIMEOUT_MS = 60_000;

/** The worker shipped in this repository, unless BENCH_WORKER_SCRIPT names a variant. */
export function workerScript(override: string | undefined): string {
  return override ?? fileURLToPath(import.meta.resolve('@app/loyalty-sync'));
}

export interface WorkerSpec {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  nodeArgs?: string[];
}

export interface Worker extends ServerProcess {
  /** Sum of the samples of one metric of this worker. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** Starts one worker and resolves once its /readyz answers 200 (consumer joined its group). */
export async function startWorker(spec: WorkerSpec): Promise<Worker> {
  const server = await startServer({
    name: spec.name,
    script: spec.script,
    port: await freePort(),
    nodeArgs: spec.nodeArgs,
    env: { ...spec.env, HOST: '127.0.0.1' },
  });
  const worker: Worker = {
    ...server,
    async metric(name, labels) {
      const response = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
      return sumMetric(await response.text(), name, labels);
    },
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const response = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return worker;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) {
      const output = server.output();
      await server.stop();
      throw new Error(`${spec.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(100);
  }
}

/** What each worker did, from its own metrics. */
export interface WorkerFigures {
  name: string;
  applied: number;
  skipped: number;
  deadLettered: number;
  providerCalls: number;
  /** Mean duration of a provider call as the worker saw it (fetch + breaker), ms. */
  providerCallMeanMs: number | undefined;
}

/** NaN where the worker did not answer (it is busy, or gone). */
export async function workerFigures(worker: Worker): Promise<WorkerFigures> {
  const metric = (name: string) => worker.metric(name).catch(() => Number.NaN);
  const [applied, skipped, deadLettered, callSeconds, calls] = await Promise.all([
    metric('loyalty_sync_events_applied_total'),
    metric('loyalty_sync_events_skipped_total'),
    metric('loyalty_sync_events_dead_lettered_total'),
    metric('loyalty_sync_provider_call_seconds_sum'),
    metric('loyalty_sync_provider_call_seconds_count'),
  ]);
  return {
    name: worker.name,
    applied,
    skipped,
    deadLettered,
    providerCalls: calls,
    providerCallMeanMs: calls > 0 ? (callSeconds * 1000) / calls : undefined,
  };
}
