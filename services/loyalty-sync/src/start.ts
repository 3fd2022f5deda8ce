import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import type { Connection } from 'mongoose';
import { connectMongo, connectRedis } from '@app/datastores';
import { createIdempotentProducer, createKafka, ensureTopics } from '@app/kafka';
import { createErrorFunnel, createLogger, installProcessHandlers, type Logger } from '@app/service-kit';
import { SettingsStore, settingDefaultsFromEnv } from '@app/settings';
import { flushTelemetry, shutdownTelemetry } from '@app/telemetry';
import { readConfig, type LoyaltySyncConfig } from './config.ts';
import { AppliedVersionStore } from './data-access/applied-version-store.ts';
import { createLoyaltyCardClient, type LoyaltyCardClient } from './data-access/loyalty-card-client.ts';
import { SyncUseCase } from './domain/sync-use-case.ts';
import { startHealthServer, stopHealthServer, type HealthServer } from './entry-points/http/server.ts';
import { DeadLetterPublisher } from './entry-points/messaging/dead-letters.ts';
import { ProfileEventsConsumer } from './entry-points/messaging/profile-events-consumer.ts';
import { createLoyaltySyncMetrics, type LoyaltySyncMetrics } from './metrics.ts';

const SERVICE = 'loyalty-sync';

export interface LoyaltySync {
  /** Base URL of the health/metrics server. */
  url: string;
  port: number;
  config: LoyaltySyncConfig;
  logger: Logger;
  metrics: LoyaltySyncMetrics;
  /** Finishes the record in hand, commits, leaves the group and closes every connection. */
  stop(): Promise<void>;
}

export interface LoyaltySyncOptions {
  /** The consumer crashed for good (kafkajs will not restart it). A main process exits non-zero. */
  onFatal?: (error: Error) => void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wires config, logger, stores, the loyalty card client and the Kafka consumer. Tests call it with
 * their own environment; `node --conditions=source services/loyalty-sync/src/start.ts` runs it.
 */
export async function startLoyaltySync(
  env: NodeJS.ProcessEnv = process.env,
  options: LoyaltySyncOptions = {},
): Promise<LoyaltySync> {
  const config = readConfig(env);
  const settingDefaults = settingDefaultsFromEnv(env);
  const logger = createLogger(SERVICE, { level: config.logLevel });
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };

  try {
    const mongo: Connection = await connectMongo(config.mongoUrl);
    cleanups.push(() => mongo.close());
    const redis: Redis = connectRedis(config.redisUrl, SERVICE);
    const subscriber: Redis = connectRedis(config.redisUrl, `${SERVICE}-settings`);
    cleanups.push(() => Promise.allSettled([redis.quit(), subscriber.quit()]));
    const settings = new SettingsStore({ connection: mongo, redis, subscriber, defaults: settingDefaults });
    await settings.start();
    cleanups.push(() => settings.stop());
    const loyaltySetting = () => settings.get('CUSTOMER_LOYALTY_CARD_SERVICE');

    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: config.kafkaClientId, logger });
    await ensureTopics(
      kafka,
      [
        { topic: config.profileEventsTopic, numPartitions: config.topicPartitions },
        { topic: config.deadLetterTopic, numPartitions: config.topicPartitions },
      ],
      config.topicDurability,
    );
    const producer: Producer = createIdempotentProducer(kafka);
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    // The consumer needs the metrics and the metrics read the consumer's paused partitions.
    let pausedPartitions = () => 0;
    let authBlocked = () => false;
    const metrics = createLoyaltySyncMetrics({
      pausedPartitions: () => pausedPartitions(),
      authBlocked: () => authBlocked(),
      loyaltySetting,
    });
    const client: LoyaltyCardClient = createLoyaltyCardClient({
      breaker: config.breaker,
      maxConnections: config.maxInFlight,
      logger,
      onCall: (outcome, seconds) => metrics.recordCall(outcome, seconds),
    });
    cleanups.push(async () => client.shutdown());
    authBlocked = () => client.authBlocked();
    const useCase = new SyncUseCase({
      loyaltySetting,
      applied: new AppliedVersionStore(redis, {
        consumerGroup: config.consumerGroup,
        retentionMs: config.appliedVersionRetentionMs,
      }),
      gateway: client,
      maxAttempts: config.maxAttempts,
      retryBackoffMs: config.retryBackoffMs,
      onAttemptFailed: (event, attempt, error) =>
        logger.warn(
          {
            event_id: event.event_id,
            user_id: event.user_id,
            attempt,
            kind: error.kind,
            status: error.status,
          },
          `loyalty card call failed: ${error.message}`,
        ),
    });
    const consumer = new ProfileEventsConsumer({
      kafka,
      topic: config.profileEventsTopic,
      groupId: config.consumerGroup,
      fromBeginning: config.fromBeginning,
      partitionsConcurrently: config.partitionsConcurrently,
      maxInFlight: config.maxInFlight,
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      fetchMaxWaitMs: config.fetchMaxWaitMs,
      useCase,
      deadLetters: new DeadLetterPublisher(producer, config.deadLetterTopic, config.consumerGroup),
      circuit: client,
      metrics,
      logger,
      onFatal: (error) => options.onFatal?.(error),
    });

    pausedPartitions = () => consumer.pausedPartitions();
    const web: HealthServer = await startHealthServer(
      {
        logger,
        registry: metrics.registry,
        checkReady: async () => ({
          kafka: consumer.isReady(),
          mongo: mongo.readyState === 1,
          redis: redis.status === 'ready',
        }),
      },
      config.port,
      config.host,
    );
    cleanups.push(() => stopHealthServer(web));
    logger.info({ port: web.port }, 'loyalty-sync listening');

    // Registered last so it runs first: leave the group before the connections close.
    cleanups.push(() => consumer.stop());
    await consumer.start();
    logger.info(
      {
        topic: config.profileEventsTopic,
        group: config.consumerGroup,
        deadLetterTopic: config.deadLetterTopic,
        partitionsConcurrently: config.partitionsConcurrently,
        maxInFlight: config.maxInFlight,
      },
      'loyalty-sync consuming',
    );

    let stopping: Promise<void> | undefined;
    return {
      url: `http://127.0.0.1:${web.port}`,
      port: web.port,
      config,
      logger,
      metrics,
      stop: () =>
        (stopping ??= withTimeout(cleanUp(), config.shutdownTimeoutMs, 'shutdown')
          .then(() => logger.info('loyalty-sync stopped'))
          // Spans of the last records handled are still buffered: export them before exit.
          .finally(flushTelemetry)),
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

export async function stopLoyaltySync(service: LoyaltySync): Promise<void> {
  await service.stop();
}

function isMainModule(): boolean {
  // Not import.meta (jest compiles to CommonJS): the process was started on this file.
  return /loyalty-sync[\\/](src|dist)[\\/]start\.[jt]s$/.test(process.argv[1] ?? '');
}

if (isMainModule()) {
  const bootLogger = createLogger(SERVICE);
  let service: LoyaltySync | undefined;
  let failing = false;
  // A consumer that kafkajs gave up on: stop what can be stopped, then exit non-zero so the
  // orchestrator restarts the process in a known state.
  const onFatal = (error: Error) => {
    if (failing) return;
    failing = true;
    (service?.logger ?? bootLogger).fatal({ err: error }, 'loyalty-sync consumer failed; exiting');
    const exit = () => void shutdownTelemetry().finally(() => process.exit(1));
    if (service) service.stop().then(exit, exit);
    else exit();
  };
  startLoyaltySync(process.env, { onFatal })
    .then((started) => {
      service = started;
      installProcessHandlers(
        createErrorFunnel(started.logger, () => undefined),
        started.logger,
        () => started.stop().finally(shutdownTelemetry),
      );
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      bootLogger.fatal({ err: error }, `loyalty-sync failed to start: ${message}`);
      process.exit(1);
    });
}
