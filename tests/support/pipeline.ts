import { stackUrls } from './env.ts';
import { workerEnv, type SuiteNames } from './loyalty-sync.ts';
import type { ProfileApiHarness } from './profile-api.ts';
import { spawnWorker, type WorkerProcess } from './workers.ts';

/**
 * A loyalty-sync process for the pipeline suites: on the suite's topic and group, and on the
 * harness's own MongoDB database, Redis and provider-sim, so that settings written through
 * profile-api's admin API are the ones the worker reads.
 */
export function spawnPipelineWorker(
  name: string,
  names: SuiteNames,
  harness: ProfileApiHarness,
): Promise<WorkerProcess> {
  return spawnWorker(
    name,
    workerEnv(names, {
      brokers: stackUrls().kafkaBrokers,
      redisUrl: harness.api.config.redisUrl,
      providerUrl: harness.sim.url,
      extra: { MONGO_URL: harness.api.config.mongoUrl },
    }),
  );
}
