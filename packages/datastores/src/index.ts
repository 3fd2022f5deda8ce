export { connectMongo, ensureCollections, mongoClientOptions, type MongoConnectOptions } from './mongo.ts';
export { connectRedis } from './redis.ts';
