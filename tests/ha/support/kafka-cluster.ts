import { Kafka, logLevel } from 'kafkajs';

export interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/**
 * The three-node cluster seen from the host (each node's HOST listener). A client per question:
 * while nodes die and return, a long-lived one would hold stale connections and metadata.
 */
export class KafkaCluster {
  private readonly brokers: string[];

  constructor(brokers: string[]) {
    this.brokers = brokers;
  }

  /** The partitions of a topic as the cluster's metadata has them now. */
  async partitions(topic: string): Promise<PartitionView[]> {
    const kafka = new Kafka({
      clientId: 'ha-faults',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0]!.partitions.map(({ partitionId, leader, replicas, isr }) => ({
        partition: partitionId,
        leader,
        replicas,
        isr,
      }));
    } finally {
      await admin.disconnect();
    }
  }

  /** The node that leads the most partitions of a topic (the lowest id on a tie). */
  async busiestLeader(topic: string): Promise<{ node: number; leads: number; of: number }> {
    const partitions = await this.partitions(topic);
    const counts = new Map<number, number>();
    for (const { leader } of partitions) counts.set(leader, (counts.get(leader) ?? 0) + 1);
    const [node, leads] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    return { node, leads, of: partitions.length };
  }

  /** True when every partition has a leader and all its replicas in sync; false while it cannot tell. */
  async fullyInSync(topic: string): Promise<boolean> {
    try {
      const partitions = await this.partitions(topic);
      return partitions.every(
        ({ leader, replicas, isr }) => leader >= 0 && replicas.length === 3 && isr.length === replicas.length,
      );
    } catch {
      return false;
    }
  }

  /** A topic's configuration entries (e.g. min.insync.replicas). */
  async topicConfig(topic: string): Promise<Record<string, string>> {
    const kafka = new Kafka({ clientId: 'ha-faults', brokers: this.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2 /* TOPIC */, name: topic }],
      });
      return Object.fromEntries(
        resources[0]!.configEntries.map(({ configName, configValue }) => [configName, configValue]),
      );
    } finally {
      await admin.disconnect();
    }
  }
}
