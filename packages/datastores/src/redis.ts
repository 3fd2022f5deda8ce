import { Redis } from 'ioredis';

/** A named client (visible in CLIENT LIST); auto-pipelining batches the commands of one tick. */
export function connectRedis(url: string, connectionName: string): Redis {
  return new Redis(url, {
    connectionName,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
  });
}
