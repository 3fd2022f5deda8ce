/**
 * Where the end-to-end time goes, per committed update, from timestamps the pipeline already keeps:
 * the event's `occurred_at` (profile-api's clock at the commit), the Kafka record's CreateTime (the
 * relay's clock when it handed the record to the producer) and provider-sim's `applied_at`. All
 * are this machine's wall clock in whole milliseconds.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { parseProfileUpdated } from '@app/events';
import type { SentUpdate } from './e2e.ts';
import type { HistoryEntry } from './provider.ts';
import { distribution, sleep, type Distribution } from './stats.ts';

export interface RecordTimes {
  committedAt: number;
  producedAt: number;
}

/** Reads the topic from the beginning until `expected` records with a marker were seen (or time ran out). */
export async function readRecordTimes(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs: number,
): Promise<Map<string, RecordTimes>> {
  const times = new Map<string, RecordTimes>();
  const consumer = kafka.consumer({ groupId: `bench-stages-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const parsed = parseProfileUpdated(message.value);
        if (!parsed.ok) return;
        const marker = parsed.event.profile.first_name;
        times.set(marker, {
          committedAt: Date.parse(parsed.event.occurred_at),
          producedAt: Number(message.timestamp),
        });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (times.size < expected && Date.now() < deadline) await sleep(200);
  } finally {
    await consumer.disconnect();
  }
  return times;
}

export interface StageFigures {
  /** Committed updates whose record was found (the rest have no breakdown). */
  matched: number;
  sentToCommitted: Distribution | undefined;
  committedToAnswered: Distribution | undefined;
  /** The outbox relay: commit → record handed to the producer. */
  committedToProduced: Distribution | undefined;
  /** Kafka append, the worker's fetch and queueing, the provider call. */
  producedToApplied: Distribution | undefined;
}

export function stageFigures(
  updates: readonly SentUpdate[],
  records: Map<string, RecordTimes>,
  histories: Map<string, HistoryEntry[]>,
): StageFigures {
  const appliedAt = new Map<string, number>();
  for (const history of histories.values()) {
    for (const entry of history) {
      const marker = entry.payload.first_name;
      if (typeof marker === 'string' && !appliedAt.has(marker))
        appliedAt.set(marker, Date.parse(entry.applied_at));
    }
  }
  const stages = {
    sent: [] as number[],
    answered: [] as number[],
    relay: [] as number[],
    worker: [] as number[],
  };
  for (const update of updates) {
    const record = records.get(update.marker);
    const applied = appliedAt.get(update.marker);
    if (!update.committed || !record || applied === undefined) continue;
    stages.sent.push(record.committedAt - update.sentAt);
    stages.answered.push(update.answeredAt! - record.committedAt);
    stages.relay.push(record.producedAt - record.committedAt);
    stages.worker.push(applied - record.producedAt);
  }
  return {
    matched: stages.relay.length,
    sentToCommitted: distribution(stages.sent),
    committedToAnswered: distribution(stages.answered),
    committedToProduced: distribution(stages.relay),
    producedToApplied: distribution(stages.worker),
  };
}
