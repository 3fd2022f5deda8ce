// A relative path: jest's moduleNameMapper does not apply to globalSetup's own imports.
import { startStack, type RunningStack } from '../../packages/testkit/src/index.ts';

declare global {
  var __TEST_STACK__: RunningStack | undefined;
}

/**
 * Starts real containers once per integration run. URLs reach the test files through the
 * environment (globals set here do not: jestjs/jest#7184); the handle stays for the teardown.
 */
export default async function globalSetup(): Promise<void> {
  const stack = await startStack();
  globalThis.__TEST_STACK__ = stack;
  process.env.MONGO_URL = stack.urls.mongoUrl;
  process.env.REDIS_URL = stack.urls.redisUrl;
  process.env.KAFKA_BROKERS = stack.urls.kafkaBrokers;
}
