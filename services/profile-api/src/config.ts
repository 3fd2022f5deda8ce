import Joi from 'joi';
import { loadConfig } from '@app/service-kit';

export interface ProfileApiConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  mongoUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
  profileEventsTopic: string;
  relayIntervalMs: number;
  relayGraceMs: number;
  secretKey: string;
  adminToken: string;
  sessionTtlSeconds: number;
  sessionCookieSecure: boolean;
  languageCodes: string[];
  defaultLanguageCode: string;
  defaultPhoneRegion: string;
  smsGateway: 'http' | 'log';
  smsGatewayUrl: string | undefined;
  smsTimeoutMs: number;
  trustProxy: boolean;
  admission: { concurrency: number; maxWaitMs: number };
  logLevel: string;
}

const csv = Joi.string().custom((value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

/** Every key: its env name, a format, a default where one is safe; validated once at start. */
interface RawEnv {
  NODE_ENV: ProfileApiConfig['nodeEnv'];
  HOST: string;
  PORT: number;
  MONGO_URL: string;
  REDIS_URL: string;
  KAFKA_BROKERS: string;
  PROFILE_EVENTS_TOPIC: string;
  RELAY_INTERVAL_MS: number;
  RELAY_GRACE_MS: number;
  SECRET_KEY: string;
  ADMIN_TOKEN: string;
  SESSION_TTL_SECONDS: number;
  SESSION_COOKIE_SECURE: boolean;
  LANGUAGE_CODES: string[];
  DEFAULT_LANGUAGE_CODE: string;
  DEFAULT_PHONE_REGION: string;
  SMS_GATEWAY: ProfileApiConfig['smsGateway'];
  SMS_GATEWAY_URL?: string;
  SMS_TIMEOUT_MS: number;
  TRUST_PROXY: boolean;
  WRITE_CONCURRENCY: number;
  WRITE_QUEUE_MAX_WAIT_MS: number;
  LOG_LEVEL: string;
}

const schema = Joi.object<RawEnv>({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  HOST: Joi.string().default('0.0.0.0'),
  PORT: Joi.number().port().default(8080),
  MONGO_URL: Joi.string()
    .uri({ scheme: ['mongodb', 'mongodb+srv'] })
    .required(),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .required(),
  KAFKA_BROKERS: Joi.string().default('localhost:9092'),
  PROFILE_EVENTS_TOPIC: Joi.string().default('profile.events.v1'),
  // A safety net behind the fast path: one indexed query on outbox_since per round.
  RELAY_INTERVAL_MS: Joi.number().integer().min(50).default(5_000),
  RELAY_GRACE_MS: Joi.number().integer().min(0).default(2_000),
  SECRET_KEY: Joi.string().min(32).required().description('HMAC key for verification codes'),
  ADMIN_TOKEN: Joi.string().min(16).required().description('Bearer token of the settings API'),
  SESSION_TTL_SECONDS: Joi.number()
    .integer()
    .min(60)
    .default(14 * 24 * 3600),
  SESSION_COOKIE_SECURE: Joi.boolean().default(false),
  LANGUAGE_CODES: csv.default(['en', 'tr', 'de', 'fr', 'es', 'it', 'nl', 'ar', 'ru']),
  DEFAULT_LANGUAGE_CODE: Joi.string().default('en'),
  DEFAULT_PHONE_REGION: Joi.string().length(2).uppercase().default('TR'),
  SMS_GATEWAY: Joi.string().valid('http', 'log').default('log'),
  SMS_GATEWAY_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .when('SMS_GATEWAY', { is: 'http', then: Joi.required() }),
  SMS_TIMEOUT_MS: Joi.number().integer().min(100).default(3_000),
  TRUST_PROXY: Joi.boolean().default(false),
  WRITE_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .max(10_000)
    .default(32)
    .description('State-changing requests handled at once by one process; more wait their turn'),
  WRITE_QUEUE_MAX_WAIT_MS: Joi.number()
    .integer()
    .min(1)
    .max(60_000)
    .default(2_000)
    .description('Longest a state-changing request waits for its turn before a 503 with Retry-After'),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
});

export function readConfig(env: NodeJS.ProcessEnv = process.env): ProfileApiConfig {
  const value = loadConfig(schema, env);
  return {
    nodeEnv: value.NODE_ENV,
    host: value.HOST,
    port: value.PORT,
    mongoUrl: value.MONGO_URL,
    redisUrl: value.REDIS_URL,
    kafkaBrokers: value.KAFKA_BROKERS,
    profileEventsTopic: value.PROFILE_EVENTS_TOPIC,
    relayIntervalMs: value.RELAY_INTERVAL_MS,
    relayGraceMs: value.RELAY_GRACE_MS,
    secretKey: value.SECRET_KEY,
    adminToken: value.ADMIN_TOKEN,
    sessionTtlSeconds: value.SESSION_TTL_SECONDS,
    sessionCookieSecure: value.SESSION_COOKIE_SECURE,
    languageCodes: value.LANGUAGE_CODES,
    defaultLanguageCode: value.DEFAULT_LANGUAGE_CODE,
    defaultPhoneRegion: value.DEFAULT_PHONE_REGION,
    smsGateway: value.SMS_GATEWAY,
    smsGatewayUrl: value.SMS_GATEWAY_URL,
    smsTimeoutMs: value.SMS_TIMEOUT_MS,
    trustProxy: value.TRUST_PROXY,
    admission: { concurrency: value.WRITE_CONCURRENCY, maxWaitMs: value.WRITE_QUEUE_MAX_WAIT_MS },
    logLevel: value.LOG_LEVEL,
  };
}
