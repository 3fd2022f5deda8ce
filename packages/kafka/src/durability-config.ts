import Joi from 'joi';
import type { TopicDurability } from './topics.ts';

export interface TopicDurabilityEnv {
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_MIN_INSYNC_REPLICAS: number;
}

/**
 * The two environment keys that say how durable a created topic is. Every service and the init CLI
 * spread these into their own joi schema, so whichever creates a topic creates it alike.
 */
export const topicDurabilityEnv = {
  KAFKA_REPLICATION_FACTOR: Joi.number()
    .integer()
    .min(1)
    .max(32)
    .default(1)
    .description('Replicas of each partition of a topic this service creates (1: the one-broker dev stack)'),
  KAFKA_MIN_INSYNC_REPLICAS: Joi.number()
    .integer()
    .min(1)
    .max(Joi.ref('KAFKA_REPLICATION_FACTOR'))
    .default(1)
    .description('min.insync.replicas of a topic this service creates: replicas that must have a write')
    .messages({ 'number.max': '"KAFKA_MIN_INSYNC_REPLICAS" must not exceed KAFKA_REPLICATION_FACTOR' }),
};

export function topicDurabilityFrom(env: TopicDurabilityEnv): TopicDurability {
  return {
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    minInsyncReplicas: env.KAFKA_MIN_INSYNC_REPLICAS,
  };
}
