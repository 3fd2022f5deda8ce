import type { Kafka, Message, Producer } from 'kafkajs';
import { EVENT_HEADERS, PROFILE_EVENTS_PARTITIONS } from '@app/events';
import {
  DEV_TOPIC_DURABILITY,
  createIdempotentProducer,
  ensureTopics,
  type TopicDurability,
} from '@app/kafka';
import { withTraceContext } from '@app/telemetry';
import type { EventPublisher, OutboxEntry, TraceContext } from '../domain/ports.ts';

/**
 * Publishes ProfileUpdated events keyed by user id, so one user's events share a partition and
 * keep their order. Connects lazily and reconnects after a failure: profile-api keeps serving
 * while Kafka is away, and the outbox holds what could not be sent.
 */
export class KafkaEventPublisher implements EventPublisher {
  private readonly kafka: Kafka;
  private readonly topic: string;
  private readonly producer: Producer;
  private readonly durability: TopicDurability;
  private connecting: Promise<void> | undefined;

  constructor(kafka: Kafka, topic: string, durability: TopicDurability = DEV_TOPIC_DURABILITY) {
    this.kafka = kafka;
    this.topic = topic;
    this.durability = durability;
    // Few retries: a send that cannot complete soon is left to the relay's next round.
    this.producer = createIdempotentProducer(kafka, {
      initialRetryTime: 200,
      retries: 4,
      maxRetryTime: 2_000,
    });
  }

  /**
   * Sends in outbox order. Each record carries the `traceparent` of the request that committed it,
   * and the send runs in that request's trace context, so the produce span (kafkajs's
   * instrumentation, which then writes its own span into the header) joins that trace whether this
   * runs right after the commit or in a relay round minutes later. Consecutive events of one trace
   * share a send; usually that is all of them (one commit, or untraced commits).
   */
  async publish(entries: OutboxEntry[]): Promise<void> {
    await this.connect();
    for (const run of runsByTrace(entries)) {
      await withTraceContext(run.trace, () =>
        this.producer.send({ topic: this.topic, acks: -1, messages: run.entries.map(toMessage) }),
      );
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  connect(): Promise<void> {
    this.connecting ??= (async () => {
      await ensureTopics(
        this.kafka,
        [{ topic: this.topic, numPartitions: PROFILE_EVENTS_PARTITIONS }],
        this.durability,
      );
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
      ...(trace && { traceparent: trace.traceparent }),
      ...(trace?.tracestate && { tracestate: trace.tracestate }),
    },
  };
}

/** Consecutive entries committed in the same trace (or all untraced), in order. */
function runsByTrace(entries: OutboxEntry[]): { trace: TraceContext | undefined; entries: OutboxEntry[] }[] {
  const runs: { trace: TraceContext | undefined; entries: OutboxEntry[] }[] = [];
  for (const entry of entries) {
    const last = runs[runs.length - 1];
    const same =
      last &&
      last.trace?.traceparent === entry.trace?.traceparent &&
      last.trace?.tracestate === entry.trace?.tracestate;
    if (same) last.entries.push(entry);
    else runs.push({ trace: entry.trace, entries: [entry] });
  }
  return runs;
}
