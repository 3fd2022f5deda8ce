import { Redis } from 'ioredis';

export function connectRedis(url: string, connectionName: string): Redis {
  return new Redis(url, {
    connectionName,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
  });
}
