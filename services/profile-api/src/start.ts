import type { IncomingMessage, ServerResponse } from 'node:http';
import { connectRedis } from '@app/datastores';
import {
  createErrorFunnel,
  createLogger,
  createMetricsRegistry,
  installProcessHandlers,
  type Logger,
} from '@app/service-kit';
import { createKafka } from '@app/kafka';
import { SettingsStore, settingDefaultsFromEnv } from '@app/settings';
import { flushTelemetry, shutdownTelemetry } from '@app/telemetry';
import { readConfig, type ProfileApiConfig } from './config.ts';
import { AvatarRepository } from './data-access/avatar-repository.ts';
import { connectProfileDatabase, prepareProfileDatabase } from './data-access/mongo.ts';
import { SessionStore } from './data-access/session-store.ts';
import { KafkaEventPublisher } from './data-access/kafka-event-publisher.ts';
import { OutboxRepository } from './data-access/outbox-repository.ts';
import { RedisLease } from './data-access/redis-lease.ts';
import { createHttpSmsGateway, createLogSmsGateway } from './data-access/sms-gateways.ts';
import { ThrottleStore } from './data-access/throttle-store.ts';
import { UserRepository } from './data-access/user-repository.ts';
import { CachedUsers } from './data-access/cached-users.ts';
import { ProfileCache } from './data-access/profile-cache.ts';
import { VerificationStore } from './data-access/verification-store.ts';
import { AuthUseCase } from './domain/auth-use-case.ts';
import { OutboxRelay } from './domain/outbox-relay.ts';
import { PhoneVerificationUseCase } from './domain/phone-verification-use-case.ts';
import { createProfileRules } from './domain/profile-schema.ts';
import { ProfileUseCase } from './domain/profile-use-case.ts';
import type { SmsSender } from './domain/ports.ts';
import { Throttler } from './domain/throttler.ts';
import {
  createApp,
  createManagementApp,
  startWebServer,
  stopWebServer,
  type WebServer,
} from './entry-points/http/server.ts';
import { abuseMetrics } from './abuse-metrics.ts';
import { outboxMetrics } from './outbox-metrics.ts';
import { profileApiMetrics } from './service-metrics.ts';

export interface ProfileApi {
  url: string;
  port: number;
  /** Where /admin/* and /metrics answer: the management port if MANAGEMENT_PORT is set, else `url`. */
  managementUrl: string;
  config: ProfileApiConfig;
  logger: Logger;
  stop(): Promise<void>;
}

/** Bounds the shutdown, so the orchestrator's grace period (stop_grace_period) is never the one to end it. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Wires config, logger, stores and the HTTP server. Tests call it with their own environment. */
export async function startProfileApi(env: NodeJS.ProcessEnv = process.env): Promise<ProfileApi> {
  const config = readConfig(env);
  const settingDefaults = settingDefaultsFromEnv(env);
  const logger = createLogger('profile-api', { level: config.logLevel });
  const funnel = createErrorFunnel(logger, () => process.exit(1));
  const metrics = createMetricsRegistry('profile-api');
  const counters = profileApiMetrics(metrics);

  const mongo = await connectProfileDatabase(config.mongoUrl);
  const redis = connectRedis(config.redisUrl, 'profile-api');
  const subscriber = connectRedis(config.redisUrl, 'profile-api-settings');
  const userRepository = new UserRepository(mongo, { outboxMaxPending: config.outboxMaxPendingPerUser });
  await prepareProfileDatabase(mongo, userRepository);
  const users = new CachedUsers(userRepository, new ProfileCache(redis, config.profileCacheTtlSeconds));
  const avatars = new AvatarRepository(mongo);
  const settings = new SettingsStore({ connection: mongo, redis, subscriber, defaults: settingDefaults });
  await settings.start();

  const smsGateway: SmsSender & { shutdown?: () => void } =
    config.smsGateway === 'http'
      ? createHttpSmsGateway({
          url: config.smsGatewayUrl!,
          timeoutMs: config.smsTimeoutMs,
          logger,
          onOutcome: (outcome) => counters.sms.inc({ outcome }),
        })
      : createLogSmsGateway(logger, config.nodeEnv === 'production');
  const throttler = new Throttler(new ThrottleStore(redis), settings);
  const rules = createProfileRules(config);
  const publisher = new KafkaEventPublisher(
    // Short retries: an unreachable broker must fail a publish within seconds, well inside the
    // outbox lease, and leave the events to the next relay round.
    createKafka({
      brokers: config.kafkaBrokers,
      clientId: 'profile-api',
      logger,
      retry: { initialRetryTime: 200, retries: 3, maxRetryTime: 1_000 },
    }),
    config.profileEventsTopic,
    config.topicDurability,
    { lingerMs: config.publishLingerMs },
  );
  const outbox = new OutboxRepository(mongo);
  const { published, publishSeconds, capReached } = outboxMetrics(
    metrics,
    () => outbox.backlogSize(),
    () => outbox.oldestPendingSince(),
  );
  const relay = new OutboxRelay({
    outbox,
    publisher,
    // Longer than a publish can take (the producer gives up within seconds), so one holder at a time.
    lease: new RedisLease(redis, { ttlMs: 15_000, waitMs: 10_000 }),
    logger,
    intervalMs: config.relayIntervalMs,
    graceMs: config.relayGraceMs,
    backlogConcurrency: config.relayBacklogConcurrency,
    onPublished: (count, seconds) => {
      published.inc(count);
      publishSeconds.observe(seconds);
    },
  });
  const profiles = new ProfileUseCase({
    users,
    avatars,
    settings,
    onCommitted: (event, committedOutbox) => {
      counters.committed.inc({ source: event.source });
      relay.publishSoon(event.user_id, committedOutbox);
    },
    onOutboxFull: () => capReached.inc(),
    // The background round is what drains a full outbox once Kafka is back.
    outboxFullRetryAfterSeconds: Math.max(1, Math.ceil(config.relayIntervalMs / 1000)),
  });
  const abuse = abuseMetrics(metrics);
  const phoneVerification = new PhoneVerificationUseCase({
    profiles,
    store: new VerificationStore(redis),
    sms: smsGateway,
    settings,
    throttler,
    secretKey: config.secretKey,
    onSmsRefused: abuse.smsRefused,
  });
  const auth = new AuthUseCase({
    users,
    sessions: new SessionStore(redis, config.sessionTtlSeconds),
    profileRules: rules,
    defaultLanguageCode: config.defaultLanguageCode,
    throttler,
    onLoginLocked: abuse.loginLocked,
  });

  let draining = false;
  const app = createApp({
    metrics,
    logger,
    funnel,
    auth,
    profiles,
    phoneVerification,
    rules,
    throttler,
    settings,
    avatars,
    adminToken: config.adminToken,
    sessionTtlSeconds: config.sessionTtlSeconds,
    secureCookies: config.sessionCookieSecure,
    trustProxy: config.trustProxy,
    admission: { ...config.admission, onShed: () => counters.shed.inc() },
    separateManagement: config.management !== undefined,
    checkReady: async () => ({
      mongo: mongo.readyState === 1,
      redis: redis.status === 'ready',
      // False from the moment shutdown begins: a load balancer takes the replica out of rotation.
      serving: !draining,
    }),
  });
  const web = await startWebServer(app, config.port, config.host);
  // While draining, every answer closes its connection: a balancer must not reuse one that the
  // listener will close at the end of the drain, or a request it sends then would get no answer.
  web.server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (draining) response.setHeader('Connection', 'close');
  });
  let management: WebServer | undefined;
  if (config.management) {
    const managementApp = createManagementApp({
      logger,
      funnel,
      settings,
      adminToken: config.adminToken,
      metrics,
    });
    management = await startWebServer(managementApp, config.management.port, config.management.host);
  }
  relay.start();
  logger.info({ port: web.port, management_port: management?.port }, 'profile-api listening');

  return {
    url: `http://127.0.0.1:${web.port}`,
    port: web.port,
    managementUrl: `http://127.0.0.1:${(management ?? web).port}`,
    config,
    logger,
    stop: () =>
      withTimeout(
        (async () => {
          draining = true;
          if (config.drainDelayMs > 0) {
            logger.info({ drain_delay_ms: config.drainDelayMs }, 'draining: /readyz answers 503');
            // Requests keep being served meanwhile: the balancer's checks, not our listener, take us out.
            await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
          }
          await Promise.all([stopWebServer(web), management && stopWebServer(management)]);
          await relay.stop();
          await publisher.disconnect().catch(() => undefined);
          await settings.stop();
          smsGateway.shutdown?.();
          await Promise.allSettled([redis.quit(), subscriber.quit(), mongo.close()]);
          logger.info('profile-api stopped');
          // Spans of the last requests and publishes are still buffered: export them before exit.
          await flushTelemetry();
        })(),
        config.shutdownTimeoutMs,
        'profile-api shutdown',
      ),
  };
}

export async function stopProfileApi(api: ProfileApi): Promise<void> {
  await api.stop();
}

function isMainModule(): boolean {
  return /profile-api\/(src|dist)\/start\.[jt]s$/.test(process.argv[1] ?? '');
}

if (isMainModule()) {
  const bootLogger = createLogger('profile-api');
  startProfileApi()
    .then((api) =>
      installProcessHandlers(
        createErrorFunnel(api.logger, () => undefined),
        api.logger,
        () => api.stop().finally(shutdownTelemetry),
      ),
    )
    .catch((error: unknown) => {
      // One line that says why, e.g. a configuration refused at start.
      const message = error instanceof Error ? error.message : String(error);
      bootLogger.fatal({ err: error }, `profile-api failed to start: ${message}`);
      process.exit(1);
    });
}
