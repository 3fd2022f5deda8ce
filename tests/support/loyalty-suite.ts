import { Redis } from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';
import mongoose from 'mongoose';
import { mongoClientOptions } from '@app/datastores';
import { PROFILE_EVENTS_PARTITIONS } from '@app/events';
import { createIdempotentProducer, createKafka, ensureTopics } from '@app/kafka';
import { startProviderSim, type RunningProviderSim } from '@app/provider-sim';
import { createLogger } from '@app/service-kit';
import { SettingsStore, settingDefaultsFromEnv, type LoyaltyCardServiceSetting } from '@app/settings';
import { mongoUrlFor, stackUrls } from './env.ts';
import {
  LOYALTY_API_KEY,
  LoyaltyProvider,
  groupCaughtUp,
  suiteNames,
  workerEnv,
  type SuiteNames,
} from './loyalty-sync.ts';
import { spawnWorker, type WorkerProcess } from './workers.ts';

export interface LoyaltySuiteOptions {
  /** A broker of the suite's own (e.g. one it restarts); the run's shared one otherwise. */
  brokers?: string;
  /** Added to every worker's environment (timeouts, log level). */
  workerEnv?: Record<string, string>;
  /** kafkajs's own logging through the test's client; the scenarios that break Kafka want less. */
  kafkaLogLevel?: 'warn' | 'error' | 'fatal';
}

export interface LoyaltySettings {
  /** The settings the workers read, over connections of the test's own. */
  store: SettingsStore;
  /** The same Redis the workers keep their applied versions in. */
  redis: Redis;
  /** The loyalty card setting the workers start with (from their environment). */
  loyalty: LoyaltyCardServiceSetting;
}

export interface LoyaltySuite {
  names: SuiteNames;
  brokers: string;
  provider: LoyaltyProvider;
  kafka: Kafka;
  /** Connected; its topic exists with the production partition count. */
  producer: Producer;
  /** True once the suite's group has committed every partition up to its topic's end. */
  groupCaughtUp(): Promise<boolean>;
  /** A worker process on the suite's topic, group, database and provider, ready; stop() kills it. */
  spawnWorker(name: string): Promise<WorkerProcess>;
  /** The live settings on the workers' database and Redis; stop() closes its connections. */
  openSettings(): Promise<LoyaltySettings>;
  stop(): Promise<void>;
}

/** What a suite holds so far: a start that fails half-way releases just that. */
interface Held {
  sim?: RunningProviderSim;
  producer?: Producer;
  workers: WorkerProcess[];
  connections: (() => Promise<unknown>)[];
}

/**
 * provider-sim (with the API key the workers send), a Kafka client with an idempotent producer on
 * a topic of the suite's own, and workers spawned on demand: the setup every loyalty-sync suite shares.
 */
export async function startLoyaltySuite(
  name: string,
  options: LoyaltySuiteOptions = {},
): Promise<LoyaltySuite> {
  const names = suiteNames(name);
  const { kafkaBrokers, redisUrl } = stackUrls();
  const brokers = options.brokers ?? kafkaBrokers;
  const held: Held = { workers: [], connections: [] };
  try {
    held.sim = await startProviderSim({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'warn',
      loyaltyApiKey: LOYALTY_API_KEY,
    });
    const clientId = `loyalty-${name}-test`;
    const kafka = createKafka({
      brokers,
      clientId,
      logger: createLogger(clientId, { level: options.kafkaLogLevel ?? 'error' }),
    });
    await ensureTopics(kafka, [{ topic: names.topic, numPartitions: PROFILE_EVENTS_PARTITIONS }]);
    const producer = createIdempotentProducer(kafka);
    held.producer = producer;
    await producer.connect();
    const env = workerEnv(names, {
      brokers,
      redisUrl,
      providerUrl: held.sim.url,
      extra: options.workerEnv,
    });
    return {
      names,
      brokers,
      provider: new LoyaltyProvider(held.sim.url),
      kafka,
      producer,
      groupCaughtUp: () => groupCaughtUp(kafka, names.group, names.topic),
      async spawnWorker(workerName) {
        const worker = await spawnWorker(workerName, env);
        held.workers.push(worker);
        return worker;
      },
      openSettings: () => openSettings(names, env, redisUrl, held),
      stop: () => release(held),
    };
  } catch (error) {
    await release(held);
    throw error;
  }
}

async function openSettings(
  names: SuiteNames,
  env: Record<string, string>,
  redisUrl: string,
  held: Held,
): Promise<LoyaltySettings> {
  const mongo = mongoose.createConnection(mongoUrlFor(names.database), mongoClientOptions());
  held.connections.push(() => mongo.close());
  await mongo.asPromise();
  const redis = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  held.connections.push(
    () => redis.quit(),
    () => subscriber.quit(),
  );
  const defaults = settingDefaultsFromEnv(env);
  return {
    store: new SettingsStore({ connection: mongo, redis, subscriber, defaults }),
    redis,
    loyalty: defaults.CUSTOMER_LOYALTY_CARD_SERVICE,
  };
}

/** Workers first: until they are gone they consume the topic and call the provider. */
async function release(held: Held): Promise<void> {
  await Promise.all(held.workers.map((worker) => worker.kill()));
  await held.producer?.disconnect();
  await Promise.allSettled(held.connections.map((close) => close()));
  await held.sim?.close();
}
