import type { Admin, Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries?: { name: string; value: string }[];
}

/**
 * How many brokers hold each partition and how many of them must have a write before acks=all
 * answers. 1/1 suits the single-broker development stack; a production cluster wants 3/2 so one
 * broker can fail without losing an acknowledged event or refusing writes.
 */
export interface TopicDurability {
  replicationFactor: number;
  minInsyncReplicas: number;
}

export const DEV_TOPIC_DURABILITY: TopicDurability = { replicationFactor: 1, minInsyncReplicas: 1 };

/**
 * Creates missing topics with the given durability and waits until every partition has a leader:
 * producing right after createTopics otherwise fails with LEADER_NOT_AVAILABLE (kafkajs#1008).
 * Topics that exist already are left as they are (their replication is an operator's decision).
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: TopicSpec[],
  durability: TopicDurability = DEV_TOPIC_DURABILITY,
): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      await admin
        .createTopics({
          // Waited for below: kafkajs's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a
          // broker of a multi-node cluster answers until the new topic's metadata reaches it.
          waitForLeaders: false,
          topics: missing.map((spec) => ({
            topic: spec.topic,
            numPartitions: spec.numPartitions,
            replicationFactor: durability.replicationFactor,
            configEntries: [
              { name: 'min.insync.replicas', value: String(durability.minInsyncReplicas) },
              ...(spec.configEntries ?? []),
            ],
          })),
        })
        .catch((error: unknown) => {
          // kafkajs says only "Topic creation errors"; the broker's reasons are in `errors`.
          const { errors } = error as { errors?: unknown[] };
          const reasons = (errors ?? [error])
            .map((reason) => (reason instanceof Error ? reason.message : String(reason)))
            .join('; ');
          throw new Error(
            `creating ${missing.map((spec) => spec.topic).join(', ')} with replication factor ` +
              `${durability.replicationFactor} and min.insync.replicas ${durability.minInsyncReplicas} failed: ${reasons}`,
            { cause: error },
          );
        });
    }
    return await waitForLeaders(admin, specs);
  } finally {
    await admin.disconnect();
  }
}

/** Answers of a broker that has not yet learnt of a topic just created, or of its leaders. */
const NOT_YET_PROPAGATED = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Waits until every partition of the topics has a leader; answers each topic's partition count. */
async function waitForLeaders(
  admin: Admin,
  specs: TopicSpec[],
  timeoutMs = 30_000,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ready: Map<string, number> | undefined;
    let last: unknown;
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
      const led = topics.every(
        (topic) =>
          topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
      );
      if (led) ready = new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
    } catch (error) {
      if (!NOT_YET_PROPAGATED.has((error as { type?: string }).type ?? '')) throw error;
      last = error;
    }
    if (ready) return ready;
    if (Date.now() > deadline) {
      throw new Error(`topics without leaders after ${timeoutMs} ms`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
