export {
  freePort,
  startKafka,
  startMongo,
  startRedis,
  startZipkin,
  type ServiceContainer,
} from './containers.ts';
export { startRedisCluster, type RedisClusterContainer } from './redis-cluster.ts';
export { imageFor, type ImageVariable } from './images.ts';
export { startStack, type RunningStack, type StackUrls } from './stack.ts';
export { waitFor, type WaitForOptions } from './wait-for.ts';
