export { createKafka, parseBrokers, type KafkaClientOptions } from './client.ts';
export { createIdempotentProducer } from './producer.ts';
export { ensureTopics, type TopicSpec } from './topics.ts';
