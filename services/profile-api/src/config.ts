import Joi from 'joi';
import { topicDurabilityEnv, topicDurabilityFrom, type TopicDurability } from '@app/kafka';
import { loadConfig } from '@app/service-kit';

export interface ProfileApiConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Where /admin/* and /metrics are served when they are kept off the public port. */
  management: { host: string; port: number } | undefined;
  mongoUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
  profileEventsTopic: string;
  topicDurability: TopicDurability;
  relayIntervalMs: number;
  /** How long an untouched profile copy stays in Redis (a backstop: commits keep it current). */
  profileCacheTtlSeconds: number;
  relayGraceMs: number;
  relayBacklogConcurrency: number;
  /** How long the publisher, while busy, waits before a produce request for more events to go with it. */
  publishLingerMs: number;
  /** Unpublished events one user's outbox may hold; a change beyond it is refused (503). */
  outboxMaxPendingPerUser: number;
  secretKey: string;
  adminToken: string;
  sessionTtlSeconds: number;
  sessionCookieSecure: boolean;
  languageCodes: string[];
  defaultLanguageCode: string;
  defaultPhoneRegion: string;
  smsGateway: 'http' | 'log';
  allowLogSmsGateway: boolean;
  smsGatewayUrl: string | undefined;
  smsTimeoutMs: number;
  /**
   * Express's `trust proxy`: false (the socket's peer is the client), a number of proxy hops in
   * front of this service, or the addresses / CIDR ranges / names (loopback, linklocal,
   * uniquelocal) of trusted proxies. true trusts every hop: the client then picks its own address.
   */
  trustProxy: boolean | number | string[];
  admission: { concurrency: number; maxWaitMs: number };
  /** How long /readyz answers 503 after SIGTERM before the server stops accepting connections. */
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  logLevel: string;
}

const csv = Joi.string().custom((value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

/** The names proxy-addr (express's `trust proxy`) knows for ranges of addresses. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const ipOrCidr = Joi.string().ip({ cidr: 'optional' });
const TRUST_PROXY_MESSAGE =
  '"TRUST_PROXY" must be true, false, a number of proxy hops, or a comma list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal';

/** A comma list of proxy addresses, CIDR ranges and range names, as an array. */
const trustedProxies = Joi.string()
  .custom((value: string, helpers) => {
    const entries = value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const wrong = entries.find(
      (entry) => !PROXY_RANGE_NAMES.includes(entry) && ipOrCidr.validate(entry).error,
    );
    if (entries.length === 0 || wrong !== undefined) return helpers.error('any.invalid');
    return entries;
  })
  .messages({ 'any.invalid': TRUST_PROXY_MESSAGE });

/** Every key: its env name, a format, a default where one is safe; validated once at start. */
interface RawEnv {
  NODE_ENV: ProfileApiConfig['nodeEnv'];
  HOST: string;
  PORT: number;
  MANAGEMENT_PORT?: number;
  MANAGEMENT_HOST: string;
  MONGO_URL: string;
  REDIS_URL: string;
  KAFKA_BROKERS: string;
  PROFILE_EVENTS_TOPIC: string;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_MIN_INSYNC_REPLICAS: number;
  RELAY_INTERVAL_MS: number;
  PROFILE_CACHE_TTL_SECONDS: number;
  RELAY_GRACE_MS: number;
  RELAY_BACKLOG_CONCURRENCY: number;
  PUBLISH_LINGER_MS: number;
  OUTBOX_MAX_PENDING_PER_USER: number;
  SECRET_KEY: string;
  ADMIN_TOKEN: string;
  SESSION_TTL_SECONDS: number;
  SESSION_COOKIE_SECURE: boolean;
  LANGUAGE_CODES: string[];
  DEFAULT_LANGUAGE_CODE: string;
  DEFAULT_PHONE_REGION: string;
  SMS_GATEWAY: ProfileApiConfig['smsGateway'];
  ALLOW_LOG_SMS_GATEWAY: boolean;
  SMS_GATEWAY_URL?: string;
  SMS_TIMEOUT_MS: number;
  TRUST_PROXY: boolean | number | string[];
  WRITE_CONCURRENCY: number;
  WRITE_QUEUE_MAX_WAIT_MS: number;
  DRAIN_DELAY_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  LOG_LEVEL: string;
}

const schema = Joi.object<RawEnv>({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  HOST: Joi.string().default('0.0.0.0'),
  PORT: Joi.number().port().default(8080),
  MANAGEMENT_PORT: Joi.number()
    .port()
    .description(
      'When set, /admin/* and /metrics are served only on this port (0: any free one) and answer 404 on PORT',
    ),
  MANAGEMENT_HOST: Joi.string().default(Joi.ref('HOST')).description('Interface of the management port'),
  MONGO_URL: Joi.string()
    .uri({ scheme: ['mongodb', 'mongodb+srv'] })
    .required(),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .required(),
  KAFKA_BROKERS: Joi.string().default('localhost:9092'),
  PROFILE_EVENTS_TOPIC: Joi.string().default('profile.events.v1'),
  ...topicDurabilityEnv,
  // A safety net behind the fast path: one indexed query on outbox_since per round.
  RELAY_INTERVAL_MS: Joi.number().integer().min(50).default(5_000),
  PROFILE_CACHE_TTL_SECONDS: Joi.number().integer().min(1).default(3_600),
  RELAY_GRACE_MS: Joi.number().integer().min(0).default(2_000),
  RELAY_BACKLOG_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .max(64)
    .default(8)
    .description('Users whose backlog one relay round publishes at once, each in order under its lease'),
  PUBLISH_LINGER_MS: Joi.number()
    .integer()
    .min(0)
    .max(100)
    .default(5)
    .description(
      'While the publisher is busy (its last produce request carried several publishes), wait this long before the next one for more events to go with it: fewer, larger requests (and outbox removals) for a little later delivery. A publish that finds it idle goes at once. 0: never wait',
    ),
  // Every event carries the whole profile (a few KB): 100 keeps a user document far below
  // MongoDB's 16 MB however long Kafka stays away, and no user changes a profile 100 times in one outage.
  OUTBOX_MAX_PENDING_PER_USER: Joi.number()
    .integer()
    .min(1)
    .max(1_000)
    .default(100)
    .description(
      "Unpublished events one user's outbox may hold (Kafka away); a change beyond it answers 503 with Retry-After",
    ),
  SECRET_KEY: Joi.string().min(32).required().description('HMAC key for verification codes'),
  ADMIN_TOKEN: Joi.string().min(16).required().description('Bearer token of the settings API'),
  SESSION_TTL_SECONDS: Joi.number()
    .integer()
    .min(60)
    .default(14 * 24 * 3600),
  // Secure (HTTPS only) in production unless explicitly turned off, e.g. for plain http on localhost.
  SESSION_COOKIE_SECURE: Joi.boolean().when('NODE_ENV', {
    is: 'production',
    then: Joi.boolean().default(true),
    otherwise: Joi.boolean().default(false),
  }),
  LANGUAGE_CODES: csv.default(['en', 'tr', 'de', 'fr', 'es', 'it', 'nl', 'ar', 'ru']),
  DEFAULT_LANGUAGE_CODE: Joi.string().default('en'),
  DEFAULT_PHONE_REGION: Joi.string().length(2).uppercase().default('TR'),
  SMS_GATEWAY: Joi.string().valid('http', 'log').default('log'),
  ALLOW_LOG_SMS_GATEWAY: Joi.boolean()
    .default(false)
    .description('Lets NODE_ENV=production start with SMS_GATEWAY=log (no SMS is sent at all then)'),
  SMS_GATEWAY_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .when('SMS_GATEWAY', { is: 'http', then: Joi.required() }),
  SMS_TIMEOUT_MS: Joi.number().integer().min(100).default(3_000),
  TRUST_PROXY: Joi.alternatives()
    .try(Joi.boolean(), Joi.number().integer().min(0).max(64), trustedProxies)
    .default(false)
    .messages({ 'alternatives.match': TRUST_PROXY_MESSAGE, 'alternatives.any': TRUST_PROXY_MESSAGE })
    .description(
      'Which proxies to believe about the client address (X-Forwarded-For): false, a hop count, or addresses/CIDRs',
    ),
  WRITE_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .max(10_000)
    .default(256)
    .description('State-changing requests handled at once by one process; more wait their turn'),
  WRITE_QUEUE_MAX_WAIT_MS: Joi.number()
    .integer()
    .min(1)
    .max(60_000)
    .default(2_000)
    .description('Longest a state-changing request waits for its turn before a 503 with Retry-After'),
  // Behind a load balancer: longer than its health checks take to mark the replica down (HAProxy in
  // docker-compose.ha.yml: 2 failed checks 1 s apart), so it stops routing here before we stop listening.
  DRAIN_DELAY_MS: Joi.number()
    .integer()
    .min(0)
    .max(60_000)
    .less(Joi.ref('SHUTDOWN_TIMEOUT_MS'))
    .default(0)
    .description(
      'On shutdown, how long /readyz answers 503 while requests are still served, before the server stops accepting',
    ),
  SHUTDOWN_TIMEOUT_MS: Joi.number()
    .integer()
    .min(1_000)
    .max(600_000)
    .default(20_000)
    .description('Longest an orderly shutdown (draining requests and the outbox relay) may take'),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
}).custom((value: RawEnv, helpers) => {
  // The log gateway sends nothing (and outside production writes the codes to the log): a
  // production deployment that forgot SMS_GATEWAY=http must not start and silently lock users out.
  if (value.NODE_ENV === 'production' && value.SMS_GATEWAY === 'log' && !value.ALLOW_LOG_SMS_GATEWAY) {
    return helpers.message({
      custom:
        'SMS_GATEWAY=log is refused with NODE_ENV=production: set SMS_GATEWAY=http and SMS_GATEWAY_URL, or ALLOW_LOG_SMS_GATEWAY=true to accept that no SMS is sent',
    });
  }
  return value;
});

export function readConfig(env: NodeJS.ProcessEnv = process.env): ProfileApiConfig {
  const value = loadConfig(schema, env);
  return {
    nodeEnv: value.NODE_ENV,
    host: value.HOST,
    port: value.PORT,
    management:
      value.MANAGEMENT_PORT === undefined
        ? undefined
        : { host: value.MANAGEMENT_HOST, port: value.MANAGEMENT_PORT },
    mongoUrl: value.MONGO_URL,
    redisUrl: value.REDIS_URL,
    kafkaBrokers: value.KAFKA_BROKERS,
    profileEventsTopic: value.PROFILE_EVENTS_TOPIC,
    topicDurability: topicDurabilityFrom(value),
    relayIntervalMs: value.RELAY_INTERVAL_MS,
    profileCacheTtlSeconds: value.PROFILE_CACHE_TTL_SECONDS,
    relayGraceMs: value.RELAY_GRACE_MS,
    relayBacklogConcurrency: value.RELAY_BACKLOG_CONCURRENCY,
    publishLingerMs: value.PUBLISH_LINGER_MS,
    outboxMaxPendingPerUser: value.OUTBOX_MAX_PENDING_PER_USER,
    secretKey: value.SECRET_KEY,
    adminToken: value.ADMIN_TOKEN,
    sessionTtlSeconds: value.SESSION_TTL_SECONDS,
    sessionCookieSecure: value.SESSION_COOKIE_SECURE,
    languageCodes: value.LANGUAGE_CODES,
    defaultLanguageCode: value.DEFAULT_LANGUAGE_CODE,
    defaultPhoneRegion: value.DEFAULT_PHONE_REGION,
    smsGateway: value.SMS_GATEWAY,
    allowLogSmsGateway: value.ALLOW_LOG_SMS_GATEWAY,
    smsGatewayUrl: value.SMS_GATEWAY_URL,
    smsTimeoutMs: value.SMS_TIMEOUT_MS,
    trustProxy: value.TRUST_PROXY,
    admission: { concurrency: value.WRITE_CONCURRENCY, maxWaitMs: value.WRITE_QUEUE_MAX_WAIT_MS },
    drainDelayMs: value.DRAIN_DELAY_MS,
    shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT_MS,
    logLevel: value.LOG_LEVEL,
  };
}
