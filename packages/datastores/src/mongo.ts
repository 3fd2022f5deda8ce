import * as os from 'node:os';
import mongoose, { type Connection, type mongo } from 'mongoose';

export interface MongoConnectOptions {
  maxPoolSize?: number;
  serverSelectionTimeoutMS?: number;
}

/**
 * The driver's options every connection of ours uses.
 *
 * `runtimeAdapters.os`: the driver loads `os` with a dynamic `import()` by default. Where that import
 * fails (jest's CommonJS sandbox without --experimental-vm-modules) the driver swallows the error and
 * sends a hello with empty client metadata, which mongod (and SecantusDB) refuse with "Missing required
 * sub-document 'driver'". Handing it the module makes the metadata complete under any module loader.
 */
export function mongoClientOptions(options: MongoConnectOptions = {}): mongo.MongoClientOptions {
  return {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    maxPoolSize: options.maxPoolSize ?? 20,
    runtimeAdapters: { os },
  };
}

/** One connection of its own (not mongoose's global one), so a process may hold several. */
export async function connectMongo(url: string, options: MongoConnectOptions = {}): Promise<Connection> {
  const connection = mongoose.createConnection(url, {
    ...mongoClientOptions(options),
    // Indexes are created at start-up by the owner of each collection (ensureIndexes), before traffic.
    autoIndex: false,
  });
  await connection.asPromise();
  return connection;
}
