import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';

/** Headers added to a dead-lettered record; the original key, value and headers are kept as they were. */
export const DLQ_HEADERS = {
  error: 'dlq_error',
  reason: 'dlq_reason',
  attempts: 'dlq_attempts',
  topic: 'dlq_topic',
  partition: 'dlq_partition',
  offset: 'dlq_offset',
  consumerGroup: 'dlq_consumer_group',
  failedAt: 'dlq_failed_at',
} as const;

export const DLQ_HEADER_PREFIX = 'dlq_';

/**
 * - poison: not JSON, or breaks the ProfileUpdated contract (replaying it cannot help unless the
 *   consumer changes);
 * - rejected: the provider refused it (4xx other than 408/429);
 * - retries-exhausted: retryable failures beyond MAX_ATTEMPTS while the circuit stayed closed.
 */
export type DeadLetterCause = 'poison' | 'rejected' | 'retries-exhausted';

const MAX_ERROR_LENGTH = 1_000;

export interface DeadLetterSource {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export interface DeadLetterFailure {
  reason: DeadLetterCause;
  error: string;
  attempts: number;
}

export function withoutDeadLetterHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(
      ([name, value]) => !name.startsWith(DLQ_HEADER_PREFIX) && value !== undefined,
    ),
  );
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Writes failed records to the dead-letter topic; the caller commits the original only after this resolves. */
export class DeadLetterPublisher {
  private readonly producer: Producer;
  private readonly topic: string;
  private readonly consumerGroup: string;

  constructor(producer: Producer, topic: string, consumerGroup: string) {
    this.producer = producer;
    this.topic = topic;
    this.consumerGroup = consumerGroup;
  }

  async publish({ topic, partition, message }: DeadLetterSource, failure: DeadLetterFailure): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...withoutDeadLetterHeaders(message.headers),
            [DLQ_HEADERS.error]: failure.error.slice(0, MAX_ERROR_LENGTH),
            [DLQ_HEADERS.reason]: failure.reason,
            [DLQ_HEADERS.attempts]: String(failure.attempts),
            [DLQ_HEADERS.topic]: topic,
            [DLQ_HEADERS.partition]: String(partition),
            [DLQ_HEADERS.offset]: message.offset,
            [DLQ_HEADERS.consumerGroup]: this.consumerGroup,
            [DLQ_HEADERS.failedAt]: new Date().toISOString(),
          },
        },
      ],
    });
  }
}
