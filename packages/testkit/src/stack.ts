import { startKafka, startMongo, startRedis, type ServiceContainer } from './containers.ts';

export interface StackUrls {
  mongoUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
}

export interface RunningStack {
  urls: StackUrls;
  /** Containers this stack started (none for a service given by URL). */
  containers: Partial<Record<'mongo' | 'redis' | 'kafka', ServiceContainer>>;
  stop(): Promise<void>;
}

/**
 * Starts what the tests need. MONGO_URL, REDIS_URL and KAFKA_BROKERS, where set, name services
 * that already run (e.g. the same binaries as local processes) and no container is started for them.
 */
export async function startStack(env: NodeJS.ProcessEnv = process.env): Promise<RunningStack> {
  const [mongo, redis, kafka] = await Promise.all([
    env.MONGO_URL ? undefined : startMongo(),
    env.REDIS_URL ? undefined : startRedis(),
    env.KAFKA_BROKERS ? undefined : startKafka(),
  ]);
  const containers = { mongo, redis, kafka };
  return {
    urls: {
      mongoUrl: env.MONGO_URL ?? mongo!.url,
      redisUrl: env.REDIS_URL ?? redis!.url,
      kafkaBrokers: env.KAFKA_BROKERS ?? kafka!.url,
    },
    containers: Object.fromEntries(Object.entries(containers).filter(([, c]) => c)),
    stop: async () => {
      await Promise.all(Object.values(containers).map((c) => c?.stop()));
    },
  };
}
