import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { startProfileApi, type ProfileApi } from '@app/profile-api';
import { startProviderSim, type RunningProviderSim } from '@app/provider-sim';
import { ApiClient } from './api-client.ts';
import { mongoUrlFor, stackUrls } from './env.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface ProfileApiHarness {
  api: ProfileApi;
  sim: RunningProviderSim;
  /**
   * A second profile-api replica on the same database and Redis, its environment changed by
   * `overrides` (e.g. a reachable KAFKA_BROKERS); stop() stops it (once) if the test has not.
   */
  startReplica(overrides?: Record<string, string>): Promise<ProfileApi>;
  client(): ApiClient;
  /** A client of the admin API: on the management port when the suite set MANAGEMENT_PORT. */
  admin(): ApiClient;
  /** Registers and logs in a new user; the client holds its session and CSRF cookies. */
  signUp(
    overrides?: Record<string, unknown>,
  ): Promise<{ client: ApiClient; email: string; password: string }>;
  setSetting(key: string, value: unknown): Promise<void>;
  /**
   * A document as the suite's database holds it, read over a connection of the test's own: for what
   * the API never answers (a stored secret, a password hash).
   */
  storedDocument(collection: string, id: string): Promise<Record<string, unknown> | null>;
  /** The suite's database over the test's own connection (closed by stop()), to plant state. */
  database(): Promise<Connection>;
  stop(): Promise<void>;
}

let suiteCounter = 0;

/**
 * A profile-api of its own per suite: its own database, its own Redis logical database (flushed),
 * and provider-sim as the SMS gateway, all over real network connections.
 */
export async function startProfileApiHarness(
  name: string,
  env: Record<string, string> = {},
): Promise<ProfileApiHarness> {
  const { redisUrl, kafkaBrokers } = stackUrls();
  const redisDb = 1 + ((process.pid + suiteCounter++) % 15);
  const suiteRedisUrl = `${redisUrl}/${redisDb}`;
  const flush = new Redis(suiteRedisUrl);
  await flush.flushdb();
  await flush.quit();

  const sim = await startProviderSim({ port: 0, host: '127.0.0.1', logLevel: 'warn' });
  const database = `${name}_${Date.now()}`;
  const apiEnv: NodeJS.ProcessEnv = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGO_URL: mongoUrlFor(database),
    REDIS_URL: suiteRedisUrl,
    KAFKA_BROKERS: kafkaBrokers,
    SECRET_KEY: 'test-secret-key-with-at-least-32-characters',
    ADMIN_TOKEN,
    SMS_GATEWAY: 'http',
    SMS_GATEWAY_URL: `${sim.url}/sms`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Generous defaults; suites that test throttling set tighter rates through the settings API.
    THROTTLING_SETTINGS: JSON.stringify({
      login: '1000/min',
      register: '1000/min',
      'profile-update': '1000/min',
      'phone-verification': '1000/min',
    }),
    ABUSE_LIMITS: JSON.stringify({
      sms_per_number: '1000/hour',
      sms_global: '1000/min',
      login_failures_per_account: '1000/15min',
    }),
    ...env,
  };
  const api = await startProfileApi(apiEnv);
  const replicas: ProfileApi[] = [];
  let userCounter = 0;
  let ownConnection: Promise<Connection> | undefined;

  const harness: ProfileApiHarness = {
    api,
    sim,
    async startReplica(overrides = {}) {
      const replica = await startProfileApi({ ...apiEnv, ...overrides });
      let stopped: Promise<void> | undefined;
      const once: ProfileApi = { ...replica, stop: () => (stopped ??= replica.stop()) };
      replicas.push(once);
      return once;
    },
    client: () => new ApiClient(api.url),
    admin: () => new ApiClient(api.managementUrl),
    async signUp(overrides = {}) {
      userCounter += 1;
      const email = `user${userCounter}.${Date.now()}@example.com`;
      const password = 'correct horse battery staple';
      const client = harness.client();
      const registration = await client.post('/users/registration/', {
        email,
        password,
        first_name: 'Ada',
        last_name: 'Lovelace',
        confirm: true,
        ...overrides,
      });
      if (registration.status !== 201)
        throw new Error(`registration failed: ${JSON.stringify(registration.body)}`);
      const login = await client.post('/users/login/', { email, password });
      if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
      return { client, email, password };
    },
    async setSetting(key, value) {
      const response = await harness
        .admin()
        .put(`/admin/settings/${key}`, { value }, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (response.status !== 200) throw new Error(`setting ${key} failed: ${JSON.stringify(response.body)}`);
    },
    database: () =>
      (ownConnection ??= mongoose.createConnection(apiEnv.MONGO_URL!, mongoClientOptions()).asPromise()),
    async storedDocument(collection, id) {
      return (await harness.database()).collection<{ _id: string }>(collection).findOne({ _id: id });
    },
    async stop() {
      if (ownConnection) await (await ownConnection).close();
      await Promise.all(replicas.map((replica) => replica.stop()));
      await api.stop();
      await sim.close();
    },
  };
  return harness;
}

/** The value of one sample of the API's Prometheus metrics: a metric name and some of its labels. */
export async function metricValue(
  harness: ProfileApiHarness,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${harness.api.managementUrl}/metrics`)).text();
  const pairs = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  const line = text
    .split('\n')
    .find(
      (candidate) =>
        (candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `)) &&
        pairs.every((pair) => candidate.includes(pair)),
    );
  if (!line) throw new Error(`no metric sample ${name} ${pairs.join(',')}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The SMS messages provider-sim received for a number, newest last. */
export async function smsMessagesTo(
  sim: RunningProviderSim,
  to: string,
): Promise<{ to: string; text: string }[]> {
  const response = await fetch(`${sim.url}/sms/messages?to=${encodeURIComponent(to)}`);
  return ((await response.json()) as { messages: { to: string; text: string }[] }).messages;
}

export function codeFrom(text: string): string {
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (!code) throw new Error(`no code in SMS: ${text}`);
  return code;
}
