/**
 * The worker's database work alone: per event, loyalty-sync reads the user's last applied version
 * and, once the provider answered, records the new one (AppliedVersionRepository, imported from the
 * service, so the probe runs exactly its queries). Run here at the worker's concurrency (one lane per
 * partition) against a fresh database, it gives the events/s that this bookkeeping allows on this
 * database with no Kafka, no HTTP and no provider: a ceiling for one worker.
 */
import mongoose from 'mongoose';
import { AppliedVersionRepository } from '../../services/loyalty-sync/src/data-access/applied-version-repository.ts';
import { distribution, type CpuMeters, cpuWindow, type Distribution } from './stats.ts';

export interface DbProbeResult {
  lanes: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  /** One event's lookup + record, ms. */
  perEvent: Distribution | undefined;
  lookup: Distribution | undefined;
  record: Distribution | undefined;
  cores: Record<string, number | undefined>;
}

export async function probeDatabase(
  mongoUrl: string,
  { lanes, events, users, meters }: { lanes: number; events: number; users: number; meters: CpuMeters },
): Promise<DbProbeResult> {
  // The worker's pool settings (services/loyalty-sync/src/data-access/mongo.ts).
  const connection = await mongoose
    .createConnection(mongoUrl, { serverSelectionTimeoutMS: 10_000, maxPoolSize: 20, autoIndex: false })
    .asPromise();
  try {
    const repository = new AppliedVersionRepository(connection);
    const perEvent: number[] = [];
    const lookups: number[] = [];
    const records: number[] = [];
    let next = 0;
    const cpu = cpuWindow(meters);
    const started = performance.now();
    const lane = async () => {
      while (next < events) {
        const i = next++;
        const userId = (i % users) + 1;
        const version = Math.floor(i / users) + 1;
        const t0 = performance.now();
        const last = await repository.lastAppliedVersion(userId);
        const t1 = performance.now();
        if (last === undefined || last < version) {
          await repository.recordApplied({ userId, profileVersion: version, eventId: `probe-${i}` });
        }
        const t2 = performance.now();
        lookups.push(t1 - t0);
        records.push(t2 - t1);
        perEvent.push(t2 - t0);
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    const seconds = (performance.now() - started) / 1000;
    return {
      lanes,
      events,
      seconds,
      eventsPerSec: events / seconds,
      perEvent: distribution(perEvent),
      lookup: distribution(lookups),
      record: distribution(records),
      cores: cpu.cores(),
    };
  } finally {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  }
}
