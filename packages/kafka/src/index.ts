export { createKafka, parseBrokers, type KafkaClientOptions } from './client.ts';
export { createIdempotentProducer } from './producer.ts';
export { DEV_TOPIC_DURABILITY, ensureTopics, type TopicDurability, type TopicSpec } from './topics.ts';
export { topicDurabilityEnv, topicDurabilityFrom, type TopicDurabilityEnv } from './durability-config.ts';
