import { Partitioners, type Kafka, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import { EVENT_HEADERS, PROFILE_EVENTS_PARTITIONS } from '@app/events';
import {
  DEV_TOPIC_DURABILITY,
  createIdempotentProducer,
  ensureTopics,
  type TopicDurability,
} from '@app/kafka';
import { startProducerSpans, withoutTracing } from '@app/telemetry';
import type { EventPublisher, OutboxEntry } from '../domain/ports.ts';

/** Messages per produce request at most; more wait for the next one. */
const MAX_BATCH_MESSAGES = 1_000;
/** A round that carried this many publishes means the producer is busy: the next one lingers. */
const BUSY_ROUND_PUBLISHES = 4;

interface QueuedSend {
  entries: OutboxEntry[];
  done: () => void;
  failed: (error: unknown) => void;
}

interface PartitionSend {
  partition: number;
  sends: QueuedSend[];
  entries: OutboxEntry[];
}

/**
 * Publishes ProfileUpdated events keyed by user id, so one user's events share a partition and
 * keep their order. Connects lazily and reconnects after a failure: profile-api keeps serving
 * while Kafka is away, and the outbox holds what could not be sent.
 *
 * Sends are group-committed: the idempotent producer has one request in flight at a time, so
 * the events of every publish that arrives while one is in flight go out together in the next
 * request (each caller still learns whether its own events were acknowledged). Under load that
 * is one produce request per round trip instead of one per update.
 *
 * One drain round is ONE kafkajs `send` with every partition's records, so kafkajs writes one produce
 * request per partition leader (the idempotent producer holds one request in flight per broker: a
 * send per partition would queue its requests one behind the other, a round trip each). kafkajs
 * 2.2.4 tracks a send's progress per broker, though: when a leader dies mid-send and its partition
 * moves to a broker that already acknowledged its own part of the same send, the retry skips that
 * partition and the send still resolves, its records never written (the HA leader-kill test lost
 * 3-5 updates a run that way when nothing checked). So each partition counts as published only
 * when the send's answer lists it without error; the others' callers are told their publish
 * failed, their events stay in the outbox, and the relay sends them again.
 *
 * Tracing: a request carries events of several commits, so each record gets a producer span of its
 * own, child of the trace context its commit stored in the outbox (see @app/telemetry's
 * startProducerSpans), written into its `traceparent` header; whenever it is sent, the consumer
 * continues the update's trace. Untraced (tracing off), a record carries its stored context as is.
 */
export class KafkaEventPublisher implements EventPublisher {
  private readonly kafka: Kafka;
  private readonly topic: string;
  private producer: Producer;
  private readonly durability: TopicDurability;
  private connecting: Promise<void> | undefined;
  private readonly queue: QueuedSend[] = [];
  private sending = false;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  /** The topic's partitions as its metadata said at connect (what the partitioner hashes over). */
  private partitionMetadata: PartitionMetadata[] = [];

  /** How long a round waits for more publishes while the producer is busy (0: never). */
  private readonly lingerMs: number;

  constructor(
    kafka: Kafka,
    topic: string,
    durability: TopicDurability = DEV_TOPIC_DURABILITY,
    { lingerMs = 0 }: { lingerMs?: number } = {},
  ) {
    this.kafka = kafka;
    this.topic = topic;
    this.durability = durability;
    this.lingerMs = lingerMs;
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    // Few retries: a send that cannot complete soon is left to the relay's next round.
    return createIdempotentProducer(this.kafka, {
      initialRetryTime: 200,
      retries: 4,
      maxRetryTime: 2_000,
    });
  }

  /**
   * A new producer id for the next send. A failed send can leave kafkajs's idempotent producer unable
   * to send again (OUT_OF_ORDER_SEQUENCE_NUMBER on every later send, seen after a leader was
   * SIGKILLed; the Java client bumps its epoch, kafkajs does not). The failed batch stays in the outbox and is sent again;
   * if its first attempt did reach the log, the topic holds it twice, which the consumers absorb
   * (loyalty-sync skips versions it applied; the provider dedups on the event id).
   */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    this.connecting = undefined;
    await old.disconnect().catch(() => undefined);
  }

  async publish(entries: OutboxEntry[]): Promise<void> {
    await this.connect();
    await new Promise<void>((done, failed) => {
      this.queue.push({ entries, done, failed });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    let busy = false;
    while (this.queue.length > 0) {
      // Each produce request costs the broker (and the outbox removals after it) about as much
      // however few records it carries. While publishes keep piling up, lingering trades a little
      // delivery delay for fewer requests; a publish that finds the producer idle goes at once.
      if (busy && this.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
      const batch: QueuedSend[] = [];
      let size = 0;
      while (
        this.queue.length > 0 &&
        (batch.length === 0 || size + this.queue[0]!.entries.length <= MAX_BATCH_MESSAGES)
      ) {
        const next = this.queue.shift()!;
        batch.push(next);
        size += next.entries.length;
      }
      busy = batch.length >= BUSY_ROUND_PUBLISHES;
      const succeeded = await this.sendRound(this.byPartition(batch));
      // After a send that failed part-way (a leader SIGKILLed) kafkajs's sequence numbers are not to
      // be trusted: the next send gets a new producer id. The failed events are still in the outbox
      // and sent again by the relay, so no deduplication that mattered is lost.
      if (!succeeded) await this.replaceProducer();
    }
    this.sending = false;
  }

  /** The batch's sends grouped by the partition of their records (a send's events share a key). */
  private byPartition(batch: QueuedSend[]): PartitionSend[] {
    const parts = new Map<number, PartitionSend>();
    for (const send of batch) {
      const key = String(send.entries[0]?.event.user_id ?? '');
      const partition = this.partitioner({
        topic: this.topic,
        partitionMetadata: this.partitionMetadata,
        message: { key, value: null },
      });
      const part = parts.get(partition) ?? { partition, sends: [], entries: [] };
      part.sends.push(send);
      part.entries.push(...send.entries);
      parts.set(partition, part);
    }
    return [...parts.values()];
  }

  /**
   * Sends the round's records in one send; tells each partition's callers whether Kafka listed that
   * partition as written. False when any partition was not.
   */
  private async sendRound(parts: PartitionSend[]): Promise<boolean> {
    const traced = parts.map(({ partition, entries }) => {
      const messages = entries.map((entry) => ({ ...toMessage(entry), partition }));
      const endSpans = startProducerSpans(
        this.topic,
        entries.map((entry, index) => ({
          headers: messages[index]!.headers as Record<string, string>,
          trace: entry.trace,
          key: String(entry.event.user_id),
        })),
      );
      return { messages, endSpans };
    });
    let written: Set<number>;
    try {
      // The spans above are the records' own; kafkajs's would give every record one parent.
      const acknowledged = await withoutTracing(() =>
        this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: traced.flatMap((part) => part.messages),
        }),
      );
      written = new Set(
        acknowledged
          .filter((record) => record.topicName === this.topic && record.errorCode === 0)
          .map((record) => record.partition),
      );
    } catch (error) {
      for (const [index, { sends }] of parts.entries()) {
        traced[index]!.endSpans(error);
        for (const send of sends) send.failed(error);
      }
      return false;
    }
    let succeeded = true;
    for (const [index, { partition, sends }] of parts.entries()) {
      if (written.has(partition)) {
        traced[index]!.endSpans();
        for (const send of sends) send.done();
        continue;
      }
      succeeded = false;
      const error = new Error(`Kafka did not acknowledge partition ${partition} of ${this.topic}`);
      traced[index]!.endSpans(error);
      for (const send of sends) send.failed(error);
    }
    return succeeded;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  connect(): Promise<void> {
    this.connecting ??= (async () => {
      const partitions = await ensureTopics(
        this.kafka,
        [{ topic: this.topic, numPartitions: PROFILE_EVENTS_PARTITIONS }],
        this.durability,
      );
      const count = partitions.get(this.topic) ?? PROFILE_EVENTS_PARTITIONS;
      this.partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [],
        isr: [],
      }));
      await this.producer.connect();
    })().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }
}

function toMessage({ event, trace }: OutboxEntry): Message {
  return {
    key: String(event.user_id),
    value: JSON.stringify(event),
    headers: {
      [EVENT_HEADERS.eventId]: event.event_id,
      [EVENT_HEADERS.eventType]: event.type,
      [EVENT_HEADERS.schemaVersion]: String(event.schema_version),
      // Overwritten by the producer span's context when tracing is on.
      ...(trace && { traceparent: trace.traceparent }),
      ...(trace?.tracestate && { tracestate: trace.tracestate }),
    },
  };
}
