import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import { createKafka, ensureTopics } from '@app/kafka';
import { createLogger } from '@app/service-kit';
import { stackUrls } from '../support/env.ts';

/** A topic's own (not inherited) min.insync.replicas and its replication factor, as the broker reports them. */
async function describeTopic(kafka: Kafka, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
    });
    const entry = resources[0]!.configEntries.find((config) => config.configName === 'min.insync.replicas')!;
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return {
      minInsyncReplicas: entry.configValue,
      setOnTheTopic: !entry.isDefault,
      replicas: topics[0]!.partitions.map((partition) => partition.replicas.length),
    };
  } finally {
    await admin.disconnect();
  }
}

describe('topic creation (packages/kafka)', () => {
  let kafka: Kafka;

  beforeAll(() => {
    kafka = createKafka({
      brokers: stackUrls().kafkaBrokers,
      clientId: 'topics-test',
      logger: createLogger('topics-test', { level: 'fatal' }),
      retry: { retries: 2, initialRetryTime: 100 },
    });
  });

  test('when a topic is created with the configured durability, then the broker holds its replication factor and its own min.insync.replicas', async () => {
    const topic = `foundation.topics.${randomUUID()}`;

    await ensureTopics(kafka, [{ topic, numPartitions: 3 }], { replicationFactor: 1, minInsyncReplicas: 1 });

    expect(await describeTopic(kafka, topic)).toEqual({
      minInsyncReplicas: '1',
      setOnTheTopic: true,
      replicas: [1, 1, 1],
    });
  });

  test('when the replication factor exceeds the brokers there are, then creation fails instead of quietly making a single copy', async () => {
    const topic = `foundation.topics.${randomUUID()}`;

    await expect(
      ensureTopics(kafka, [{ topic, numPartitions: 1 }], { replicationFactor: 3, minInsyncReplicas: 2 }),
    ).rejects.toThrow(/replication factor/i);
  });
});
