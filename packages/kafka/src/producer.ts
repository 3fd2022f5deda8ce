import { Partitioners, type Kafka, type Producer, type RetryOptions } from 'kafkajs';

/**
 * Idempotent producer (acks=all is implied and enforced by kafkajs): a retried send after a
 * broker failover is written once. The default partitioner hashes the key like the Java client,
 * so a user's events always land on the same partition whichever service produced them.
 */
export function createIdempotentProducer(
  kafka: Kafka,
  retry: RetryOptions = { initialRetryTime: 300, retries: 15, maxRetryTime: 5_000 },
): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry,
  });
}
