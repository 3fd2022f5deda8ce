import Joi from 'joi';
import { DEFAULT_PROFILE_EVENTS_TOPIC, PROFILE_EVENTS_PARTITIONS, deadLetterTopicFor } from '@app/events';
import { topicDurabilityEnv, topicDurabilityFrom, type TopicDurability } from '@app/kafka';
import { loadConfig } from '@app/service-kit';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface BreakerConfig {
  /** Percentage of failed calls in the rolling window above which the circuit opens. */
  errorThresholdPercentage: number;
  /** Calls the rolling window must hold before the circuit may open (never 0: opossum#217). */
  volumeThreshold: number;
  /** How long the circuit stays open before one trial call is let through (half-open). */
  resetTimeoutMs: number;
  /** Length of the rolling window the error percentage is computed over. */
  rollingWindowMs: number;
}

export interface LoyaltySyncConfig {
  host: string;
  port: number;
  kafkaBrokers: string;
  kafkaClientId: string;
  mongoUrl: string;
  redisUrl: string;
  profileEventsTopic: string;
  topicPartitions: number;
  /** Replication of the topics this service creates (existing topics are left as they are). */
  topicDurability: TopicDurability;
  consumerGroup: string;
  /** Where a group without committed offsets starts: the earliest record (true) or new ones only. */
  fromBeginning: boolean;
  deadLetterTopic: string;
  maxAttempts: number;
  retryBackoffMs: number;
  partitionsConcurrently: number;
  /** Provider calls in flight at once in this process, across its partitions. */
  maxInFlight: number;
  appliedVersionRetentionMs: number;
  sessionTimeoutMs: number;
  /** How often a member heartbeats: also how soon it notices a rebalance and rejoins. */
  heartbeatIntervalMs: number;
  /** Longest a fetch waits for records; an idle member heartbeats only between fetches. */
  fetchMaxWaitMs: number;
  breaker: BreakerConfig;
  shutdownTimeoutMs: number;
  logLevel: string;
}

/** Every key: its env name, a format, a default where one is safe; validated once at start. */
interface RawEnv {
  HOST: string;
  PORT: number;
  KAFKA_BROKERS: string;
  KAFKA_CLIENT_ID: string;
  MONGO_URL: string;
  REDIS_URL: string;
  PROFILE_EVENTS_TOPIC: string;
  PROFILE_EVENTS_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_MIN_INSYNC_REPLICAS: number;
  CONSUMER_GROUP: string;
  CONSUMER_FROM_BEGINNING: boolean;
  MAX_ATTEMPTS: number;
  RETRY_BACKOFF_MS: number;
  PARTITIONS_CONCURRENTLY?: number;
  MAX_IN_FLIGHT: number;
  APPLIED_VERSION_RETENTION_DAYS: number;
  CONSUMER_SESSION_TIMEOUT_MS: number;
  CONSUMER_HEARTBEAT_INTERVAL_MS: number;
  CONSUMER_FETCH_MAX_WAIT_MS: number;
  BREAKER_ERROR_THRESHOLD_PERCENT: number;
  BREAKER_VOLUME_THRESHOLD: number;
  BREAKER_RESET_TIMEOUT_MS: number;
  BREAKER_ROLLING_WINDOW_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  LOG_LEVEL: string;
}

const topicName = Joi.string().pattern(/^[a-zA-Z0-9._-]{1,200}$/);

const schema = Joi.object<RawEnv>({
  HOST: Joi.string().default('0.0.0.0').description('Interface of the health/metrics server'),
  PORT: Joi.number().integer().min(0).max(65535).default(8081).description('Health/metrics port (0: any)'),
  KAFKA_BROKERS: Joi.string().default('localhost:9092').description('Comma-separated host:port list'),
  KAFKA_CLIENT_ID: Joi.string().default('loyalty-sync'),
  MONGO_URL: Joi.string()
    .uri({ scheme: ['mongodb', 'mongodb+srv'] })
    .required()
    .description('Database of the live settings'),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .required()
    .description('Redis of the applied versions and the settings invalidation channel'),
  PROFILE_EVENTS_TOPIC: topicName.default(DEFAULT_PROFILE_EVENTS_TOPIC),
  PROFILE_EVENTS_PARTITIONS: Joi.number()
    .integer()
    .min(1)
    .default(PROFILE_EVENTS_PARTITIONS)
    .description('Partitions of the topic (and of its dead-letter topic) when this service creates them'),
  ...topicDurabilityEnv,
  CONSUMER_GROUP: Joi.string()
    .pattern(/^[a-zA-Z0-9._-]{1,200}$/)
    .default('loyalty-sync'),
  CONSUMER_FROM_BEGINNING: Joi.boolean()
    .default(true)
    .description(
      'A new group starts at the earliest record, so nothing produced before its first start is missed',
    ),
  MAX_ATTEMPTS: Joi.number()
    .integer()
    .min(1)
    .max(50)
    .default(5)
    .description('In-process attempts of a retryable failure before the message is dead-lettered'),
  RETRY_BACKOFF_MS: Joi.number()
    .integer()
    .min(0)
    .max(60_000)
    .default(250)
    .description('First backoff between attempts; doubles per attempt, capped at 8x'),
  PARTITIONS_CONCURRENTLY: Joi.number()
    .integer()
    .min(1)
    .description('Partitions processed in parallel (default: the partition count)'),
  MAX_IN_FLIGHT: Joi.number()
    .integer()
    .min(1)
    .max(1_000)
    .default(64)
    .description(
      'Provider calls in flight at once, across partitions; different users of one partition run in parallel',
    ),
  APPLIED_VERSION_RETENTION_DAYS: Joi.number()
    .integer()
    .min(1)
    .max(3_650)
    .default(30)
    .description(
      "How long a user's last applied version is kept; keep it above the topic's and the dead-letter topic's retention",
    ),
  CONSUMER_SESSION_TIMEOUT_MS: Joi.number()
    .integer()
    .min(6_000)
    .max(300_000)
    .default(30_000)
    .description('How long the group waits for a silent member before moving its partitions'),
  // An eager rebalance (kafkajs has no other kind) stops every member until the last one has
  // rejoined, and a member learns of it only from a heartbeat answer: the interval is the bulk of
  // the stall. 500 ms costs two small requests a second per member.
  CONSUMER_HEARTBEAT_INTERVAL_MS: Joi.number()
    .integer()
    .min(100)
    .max(10_000)
    .default(500)
    .description(
      'Heartbeat interval; how soon a member notices a rebalance (below a third of the session timeout)',
    ),
  // kafkajs heartbeats between fetches, so a member whose partitions are quiet notices a rebalance
  // only when its long poll ends: kept as short as the heartbeat.
  CONSUMER_FETCH_MAX_WAIT_MS: Joi.number()
    .integer()
    .min(10)
    .max(10_000)
    .default(500)
    .description('Longest a fetch waits for records before answering empty'),
  BREAKER_ERROR_THRESHOLD_PERCENT: Joi.number().integer().min(1).max(99).default(50),
  BREAKER_VOLUME_THRESHOLD: Joi.number().integer().min(1).max(Joi.ref('MAX_ATTEMPTS')).default(5).messages({
    'number.max':
      '"BREAKER_VOLUME_THRESHOLD" must not exceed MAX_ATTEMPTS, so the attempts of a lone message can open the circuit before it is dead-lettered',
  }),
  BREAKER_RESET_TIMEOUT_MS: Joi.number().integer().min(100).max(600_000).default(10_000),
  BREAKER_ROLLING_WINDOW_MS: Joi.number().integer().min(1_000).max(600_000).default(10_000),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(1_000).max(600_000).default(20_000),
  LOG_LEVEL: Joi.string()
    .valid(...LOG_LEVELS)
    .default('info'),
});

export function readConfig(env: NodeJS.ProcessEnv = process.env): LoyaltySyncConfig {
  const value = loadConfig(schema, env);
  return {
    host: value.HOST,
    port: value.PORT,
    kafkaBrokers: value.KAFKA_BROKERS,
    kafkaClientId: value.KAFKA_CLIENT_ID,
    mongoUrl: value.MONGO_URL,
    redisUrl: value.REDIS_URL,
    profileEventsTopic: value.PROFILE_EVENTS_TOPIC,
    topicPartitions: value.PROFILE_EVENTS_PARTITIONS,
    topicDurability: topicDurabilityFrom(value),
    consumerGroup: value.CONSUMER_GROUP,
    fromBeginning: value.CONSUMER_FROM_BEGINNING,
    deadLetterTopic: deadLetterTopicFor(value.PROFILE_EVENTS_TOPIC, value.CONSUMER_GROUP),
    maxAttempts: value.MAX_ATTEMPTS,
    retryBackoffMs: value.RETRY_BACKOFF_MS,
    partitionsConcurrently: value.PARTITIONS_CONCURRENTLY ?? value.PROFILE_EVENTS_PARTITIONS,
    maxInFlight: value.MAX_IN_FLIGHT,
    appliedVersionRetentionMs: value.APPLIED_VERSION_RETENTION_DAYS * 24 * 60 * 60 * 1000,
    sessionTimeoutMs: value.CONSUMER_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: Math.min(
      value.CONSUMER_HEARTBEAT_INTERVAL_MS,
      Math.floor(value.CONSUMER_SESSION_TIMEOUT_MS / 3),
    ),
    fetchMaxWaitMs: value.CONSUMER_FETCH_MAX_WAIT_MS,
    breaker: {
      errorThresholdPercentage: value.BREAKER_ERROR_THRESHOLD_PERCENT,
      volumeThreshold: value.BREAKER_VOLUME_THRESHOLD,
      resetTimeoutMs: value.BREAKER_RESET_TIMEOUT_MS,
      rollingWindowMs: value.BREAKER_ROLLING_WINDOW_MS,
    },
    shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT_MS,
    logLevel: value.LOG_LEVEL,
  };
}

export interface ReplayConfig {
  kafkaBrokers: string;
  profileEventsTopic: string;
  deadLetterTopic: string;
  replayGroup: string;
  logLevel: string;
}

interface ReplayEnv {
  KAFKA_BROKERS: string;
  PROFILE_EVENTS_TOPIC: string;
  CONSUMER_GROUP: string;
  DLQ_REPLAY_GROUP: string;
  LOG_LEVEL: string;
}

const replaySchema = Joi.object<ReplayEnv>({
  KAFKA_BROKERS: Joi.string().default('localhost:9092'),
  PROFILE_EVENTS_TOPIC: topicName.default(DEFAULT_PROFILE_EVENTS_TOPIC),
  CONSUMER_GROUP: Joi.string()
    .pattern(/^[a-zA-Z0-9._-]{1,200}$/)
    .default('loyalty-sync')
    .description('The worker group whose dead-letter topic is replayed'),
  DLQ_REPLAY_GROUP: Joi.string()
    .pattern(/^[a-zA-Z0-9._-]{1,200}$/)
    .default('loyalty-sync-dlq-replay')
    .description('Consumer group of the replay tool: what it committed is not replayed again'),
  LOG_LEVEL: Joi.string()
    .valid(...LOG_LEVELS)
    .default('error'),
});

/** The replay tool needs Kafka only. */
export function readReplayConfig(env: NodeJS.ProcessEnv = process.env): ReplayConfig {
  const value = loadConfig(replaySchema, env);
  return {
    kafkaBrokers: value.KAFKA_BROKERS,
    profileEventsTopic: value.PROFILE_EVENTS_TOPIC,
    deadLetterTopic: deadLetterTopicFor(value.PROFILE_EVENTS_TOPIC, value.CONSUMER_GROUP),
    replayGroup: value.DLQ_REPLAY_GROUP,
    logLevel: value.LOG_LEVEL,
  };
}
