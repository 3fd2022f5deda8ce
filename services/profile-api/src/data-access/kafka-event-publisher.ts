import type { Kafka, Message, Producer } from 'kafkajs';
import { EVENT_HEADERS, PROFILE_EVENTS_PARTITIONS, type ProfileUpdatedEvent } from '@app/events';
import {
  DEV_TOPIC_DURABILITY,
  createIdempotentProducer,
  ensureTopics,
  type TopicDurability,
} from '@app/kafka';
import type { EventPublisher } from '../domain/ports.ts';

/** Messages per produce request at most; more wait for the next one. */
const MAX_BATCH_MESSAGES = 1_000;

interface QueuedSend {
  messages: Message[];
  done: () => void;
  failed: (error: unknown) => void;
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
 */
export class KafkaEventPublisher implements EventPublisher {
  private readonly kafka: Kafka;
  private readonly topic: string;
  private readonly producer: Producer;
  private readonly durability: TopicDurability;
  private connecting: Promise<void> | undefined;
  private readonly queue: QueuedSend[] = [];
  private sending = false;

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

  async publish(events: ProfileUpdatedEvent[]): Promise<void> {
    await this.connect();
    await new Promise<void>((done, failed) => {
      this.queue.push({ messages: events.map(toMessage), done, failed });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch: QueuedSend[] = [];
      let size = 0;
      while (
        this.queue.length > 0 &&
        (batch.length === 0 || size + this.queue[0]!.messages.length <= MAX_BATCH_MESSAGES)
      ) {
        const next = this.queue.shift()!;
        batch.push(next);
        size += next.messages.length;
      }
      try {
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.flatMap((send) => send.messages),
        });
        for (const send of batch) send.done();
      } catch (error) {
        for (const send of batch) send.failed(error);
      }
    }
    this.sending = false;
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

function toMessage(event: ProfileUpdatedEvent): Message {
  return {
    key: String(event.user_id),
    value: JSON.stringify(event),
    headers: {
      [EVENT_HEADERS.eventId]: event.event_id,
      [EVENT_HEADERS.eventType]: event.type,
      [EVENT_HEADERS.schemaVersion]: String(event.schema_version),
    },
  };
}
