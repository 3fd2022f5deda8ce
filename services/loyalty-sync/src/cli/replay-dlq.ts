import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Admin, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { EVENT_HEADERS } from '@app/events';
import { createIdempotentProducer, createKafka } from '@app/kafka';
import { createLogger, type Logger } from '@app/service-kit';
import { shutdownTelemetry, withTraceContext } from '@app/telemetry';
import { readReplayConfig } from '../config.ts';
import { DLQ_HEADERS, headerText, withoutDeadLetterHeaders } from '../entry-points/messaging/dead-letters.ts';

export interface ReplayOptions {
  kafkaBrokers: string;
  /** Where replayed records go (the worker's topic). */
  profileEventsTopic: string;
  deadLetterTopic: string;
  /** Group whose committed offsets mark what was replayed already. */
  replayGroup: string;
  /** Replay only this event (found by its event_id header or body field). */
  eventId?: string;
  /** Replay poison records too (not JSON / not the contract): only useful once the consumer changed. */
  includePoison?: boolean;
  timeoutMs?: number;
  logger?: Logger;
  /** One line per record replayed or skipped. */
  print?: (line: string) => void;
}

export interface ReplayedRecord {
  eventId: string | undefined;
  key: string | undefined;
  partition: number;
  offset: string;
  reason: string | undefined;
}

export interface ReplayResult {
  replayed: ReplayedRecord[];
  /** Records passed over: poison without --include-poison. */
  skipped: ReplayedRecord[];
}

function eventIdOf(message: KafkaMessage): string | undefined {
  const fromHeader = headerText(message.headers, EVENT_HEADERS.eventId);
  if (fromHeader) return fromHeader;
  try {
    const body = JSON.parse(message.value?.toString() ?? '') as { event_id?: unknown };
    return typeof body.event_id === 'string' ? body.event_id : undefined;
  } catch {
    return undefined;
  }
}

/** Offsets still to replay per partition: [from, end) where end is the log end when the replay started. */
async function pendingRanges(admin: Admin, topic: string, groupId: string): Promise<Map<number, bigint>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const pending = new Map<number, bigint>();
  for (const { partition, high, low } of ends) {
    const done = committed?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
    const from = BigInt(done) >= 0n ? BigInt(done) : BigInt(low);
    if (BigInt(high) > from) pending.set(partition, BigInt(high));
  }
  return pending;
}

/**
 * Replays the dead-letter topic into the main topic, keeping each record's key, value and
 * headers (minus the dlq_* ones), up to the end the topic had when the replay started (records
 * dead-lettered again meanwhile wait for the next replay). The replay group commits each record
 * once it is produced, so a later run does not replay it again. With an event id, the whole
 * topic is searched under a throw-away group and nothing is committed for the replay group.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const logger = options.logger ?? createLogger('loyalty-sync-dlq-replay', { level: 'warn' });
  const print = options.print ?? (() => undefined);
  const kafka: Kafka = createKafka({
    brokers: options.kafkaBrokers,
    clientId: 'loyalty-sync-dlq-replay',
    logger,
  });
  const groupId = options.eventId ? `${options.replayGroup}-search-${randomUUID()}` : options.replayGroup;
  const result: ReplayResult = { replayed: [], skipped: [] };
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(options.deadLetterTopic)) return result;
    const pending = await pendingRanges(admin, options.deadLetterTopic, groupId);
    if (pending.size === 0) return result;

    const producer = createIdempotentProducer(kafka);
    await producer.connect();
    const consumer = kafka.consumer({ groupId });
    let finish!: () => void;
    let fail!: (error: Error) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const timer = setTimeout(
      () => fail(new Error(`the replay did not reach the end of ${options.deadLetterTopic} in time`)),
      options.timeoutMs ?? 120_000,
    );
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(payload.error);
    });

    const handle = async (partition: number, message: KafkaMessage) => {
      const record: ReplayedRecord = {
        eventId: eventIdOf(message),
        key: message.key?.toString(),
        partition,
        offset: message.offset,
        reason: headerText(message.headers, DLQ_HEADERS.reason),
      };
      if (options.eventId && record.eventId !== options.eventId) return;
      if (record.reason === 'poison' && !options.includePoison) {
        result.skipped.push(record);
        print(
          `skipped  ${record.eventId ?? '-'} key=${record.key ?? '-'} dlq=${partition}/${message.offset} reason=poison (${headerText(message.headers, DLQ_HEADERS.error) ?? ''})`,
        );
        return;
      }
      // The record keeps its trace headers; traced, the send continues that trace (its span is a
      // child of the dead-lettered attempt's), so the replayed record's handling joins it too.
      await withTraceContext(message.headers, () =>
        producer.send({
          topic: options.profileEventsTopic,
          acks: -1,
          messages: [
            { key: message.key, value: message.value, headers: withoutDeadLetterHeaders(message.headers) },
          ],
        }),
      );
      result.replayed.push(record);
      print(
        `replayed ${record.eventId ?? '-'} key=${record.key ?? '-'} dlq=${partition}/${message.offset} reason=${record.reason ?? '-'}`,
      );
    };

    const reachedEnd = (partition: number) => {
      pending.delete(partition);
      consumer.pause([{ topic: options.deadLetterTopic, partitions: [partition] }]);
      if (pending.size === 0) finish();
    };

    const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning }: EachBatchPayload) => {
      const end = pending.get(batch.partition);
      if (end === undefined) return;
      for (const message of batch.messages) {
        if (!isRunning()) return;
        if (BigInt(message.offset) >= end) return reachedEnd(batch.partition);
        await handle(batch.partition, message);
        resolveOffset(message.offset);
        if (!options.eventId) {
          const next = (BigInt(message.offset) + 1n).toString();
          await consumer.commitOffsets([
            { topic: options.deadLetterTopic, partition: batch.partition, offset: next },
          ]);
        }
        await heartbeat();
      }
      // The batch's last offset counts records it did not hand over (control records) too.
      if (BigInt(batch.lastOffset()) + 1n >= end) reachedEnd(batch.partition);
    };

    try {
      await consumer.connect();
      await consumer.subscribe({ topic: options.deadLetterTopic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
      await finished;
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
      await producer.disconnect();
      if (options.eventId) await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

const USAGE = `usage: node --conditions=source services/loyalty-sync/src/cli/replay-dlq.ts [--event-id <uuid>] [--include-poison] [--timeout-ms <ms>]

Replays the loyalty-sync dead-letter topic into the profile events topic, up to its current end.
Environment: KAFKA_BROKERS, PROFILE_EVENTS_TOPIC, CONSUMER_GROUP (the worker group), DLQ_REPLAY_GROUP, LOG_LEVEL.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'event-id': { type: 'string' },
      'include-poison': { type: 'boolean', default: false },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = readReplayConfig();
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new Error('--timeout-ms must be a positive number');
  const eventId = values['event-id'];
  console.log(
    `replaying ${config.deadLetterTopic} into ${config.profileEventsTopic}${eventId ? ` (event ${eventId})` : ''}`,
  );
  const result = await replayDeadLetters({
    ...config,
    eventId,
    includePoison: values['include-poison'],
    timeoutMs,
    logger: createLogger('loyalty-sync-dlq-replay', { level: config.logLevel }),
    print: (line) => console.log(line),
  });
  console.log(`done: replayed ${result.replayed.length}, skipped ${result.skipped.length}`);
  if (eventId && result.replayed.length === 0) {
    console.error(
      `event ${eventId} was not found in ${config.deadLetterTopic} (or is poison: --include-poison)`,
    );
    return 1;
  }
  return 0;
}

if (/replay-dlq\.[jt]s$/.test(process.argv[1] ?? '')) {
  // Traced (node --import @app/telemetry/register with OTEL_* set), the replay's spans leave before exit.
  const exit = (code: number) => void shutdownTelemetry().finally(() => process.exit(code));
  main().then(exit, (error: unknown) => {
    console.error(`replay failed: ${error instanceof Error ? error.message : String(error)}`);
    exit(1);
  });
}
