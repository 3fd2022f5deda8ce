export { connectMongo, mongoClientOptions, type MongoConnectOptions } from './mongo.ts';
export { connectRedis } from './redis.ts';
