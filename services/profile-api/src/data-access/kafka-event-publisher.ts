import type { Kafka, Producer } from 'kafkajs';
import { EVENT_HEADERS, PROFILE_EVENTS_PARTITIONS, type ProfileUpdatedEvent } from '@app/events';
import {
  DEV_TOPIC_DURABILITY,
  createIdempotentProducer,
  ensureTopics,
  type TopicDurability,
} from '@app/kafka';
import type { EventPublisher } from '../domain/ports.ts';

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

  async publish(events: ProfileUpdatedEvent[]): Promise<void> {
    await this.connect();
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: events.map((event) => ({
        key: String(event.user_id),
        value: JSON.stringify(event),
        headers: {
          [EVENT_HEADERS.eventId]: event.event_id,
          [EVENT_HEADERS.eventType]: event.type,
          [EVENT_HEADERS.schemaVersion]: String(event.schema_version),
        },
      })),
    });
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
