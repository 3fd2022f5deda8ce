import { readConfig, readReplayConfig } from '../src/config.ts';

const required = { MONGO_URL: 'mongodb://localhost:27017/loyalty', REDIS_URL: 'redis://localhost:6379' };

describe('loyalty-sync configuration', () => {
  test('when only the required keys are set, then the documented defaults apply', () => {
    const config = readConfig(required);

    expect(config).toEqual({
      host: '0.0.0.0',
      port: 8081,
      kafkaBrokers: 'localhost:9092',
      kafkaClientId: 'loyalty-sync',
      mongoUrl: required.MONGO_URL,
      redisUrl: required.REDIS_URL,
      profileEventsTopic: 'profile.events.v1',
      topicPartitions: 12,
      topicDurability: { replicationFactor: 1, minInsyncReplicas: 1 },
      consumerGroup: 'loyalty-sync',
      fromBeginning: true,
      deadLetterTopic: 'profile.events.v1.loyalty-sync.dlq',
      maxAttempts: 5,
      retryBackoffMs: 250,
      partitionsConcurrently: 12,
      maxInFlight: 64,
      appliedVersionRetentionMs: 30 * 24 * 60 * 60 * 1000,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 500,
      fetchMaxWaitMs: 500,
      breaker: {
        errorThresholdPercentage: 50,
        volumeThreshold: 5,
        resetTimeoutMs: 10_000,
        rollingWindowMs: 10_000,
      },
      shutdownTimeoutMs: 20_000,
      logLevel: 'info',
    });
  });

  test('when the heartbeat is not below a third of the session timeout, then it is capped there', () => {
    const config = readConfig({
      ...required,
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      CONSUMER_HEARTBEAT_INTERVAL_MS: '5000',
      CONSUMER_FETCH_MAX_WAIT_MS: '100',
    });

    expect({ heartbeat: config.heartbeatIntervalMs, fetchWait: config.fetchMaxWaitMs }).toEqual({
      heartbeat: 2_000,
      fetchWait: 100,
    });
  });

  test('when the topic and group are configured, then the dead-letter topic follows them', () => {
    const config = readConfig({
      ...required,
      PROFILE_EVENTS_TOPIC: 'events.x',
      CONSUMER_GROUP: 'sync-b',
      PORT: '0',
    });

    expect(config.deadLetterTopic).toBe('events.x.sync-b.dlq');
    expect(config.port).toBe(0);
  });

  test('when values are wrong or missing, then it refuses to start with one line naming every problem', () => {
    expect(() =>
      readConfig({ REDIS_URL: 'http://nope', MAX_ATTEMPTS: '0', BREAKER_ERROR_THRESHOLD_PERCENT: '100' }),
    ).toThrow(
      /^invalid configuration: "MONGO_URL" is required; "REDIS_URL" must be a valid uri with a scheme matching the redis\|rediss pattern; "MAX_ATTEMPTS" must be greater than or equal to 1; .*"BREAKER_ERROR_THRESHOLD_PERCENT" must be less than or equal to 99$/,
    );
  });

  test('when the breaker needs more calls than a message has attempts, then the configuration is refused', () => {
    expect(() => readConfig({ ...required, MAX_ATTEMPTS: '3', BREAKER_VOLUME_THRESHOLD: '5' })).toThrow(
      /BREAKER_VOLUME_THRESHOLD" must not exceed MAX_ATTEMPTS/,
    );
    expect(() => readConfig({ ...required, BREAKER_VOLUME_THRESHOLD: '0' })).toThrow(
      /greater than or equal to 1/,
    );
  });

  test('when the topics need replicas, then replication factor and min.insync.replicas are read, the latter never above the former', () => {
    expect(
      readConfig({ ...required, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' })
        .topicDurability,
    ).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(() => readConfig({ ...required, KAFKA_MIN_INSYNC_REPLICAS: '2' })).toThrow(
      '"KAFKA_MIN_INSYNC_REPLICAS" must not exceed KAFKA_REPLICATION_FACTOR',
    );
  });

  test('when the replay tool reads its environment, then it needs Kafka only', () => {
    expect(readReplayConfig({ KAFKA_BROKERS: 'k:9092', CONSUMER_GROUP: 'g' })).toEqual({
      kafkaBrokers: 'k:9092',
      profileEventsTopic: 'profile.events.v1',
      deadLetterTopic: 'profile.events.v1.g.dlq',
      replayGroup: 'loyalty-sync-dlq-replay',
      logLevel: 'error',
    });
  });
});
