import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { PROFILE_EVENTS_PARTITIONS } from '@app/events';
import { createKafka, ensureTopics } from '@app/kafka';
import { createLogger } from '@app/service-kit';

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string;
  headers: Record<string, string>;
  value: Record<string, unknown>;
}

/** Reads a ProfileUpdated topic from the beginning into `records` until stopped: what a test asserts against. */
export async function readTopic(
  brokers: string,
  topic: string,
): Promise<{ records: ReadRecord[]; stop(): Promise<void> }> {
  const kafka = createKafka({
    brokers,
    clientId: 'test-reader',
    logger: createLogger('test-reader', { level: 'fatal' }),
  });
  // Created as the services create it, so reading can start before the first event.
  await ensureTopics(kafka, [{ topic, numPartitions: PROFILE_EVENTS_PARTITIONS }]);
  const consumer: Consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}` });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? '',
        headers: Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        ),
        value: JSON.parse(message.value!.toString()) as Record<string, unknown>,
      });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}
