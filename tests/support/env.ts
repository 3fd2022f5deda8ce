import type { StackUrls } from '@app/testkit';

/** The URLs the global setup published for this run. */
export function stackUrls(): StackUrls {
  const { MONGO_URL, REDIS_URL, KAFKA_BROKERS } = process.env;
  if (!MONGO_URL || !REDIS_URL || !KAFKA_BROKERS) {
    throw new Error('integration tests run through jest --selectProjects integration (global setup)');
  }
  return { mongoUrl: MONGO_URL, redisUrl: REDIS_URL, kafkaBrokers: KAFKA_BROKERS };
}

/** A database name of its own per suite, so suites never see each other's documents. */
export function mongoUrlFor(database: string): string {
  const url = new URL(stackUrls().mongoUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
