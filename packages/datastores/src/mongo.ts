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

const NAMESPACE_EXISTS = 48;

/**
 * Creates each named collection that does not exist yet, before any traffic. Writing into a
 * collection that does not exist creates it implicitly, but not safely under concurrency: SecantusDB
 * answered concurrent `upsert` + `returnDocument: 'after'` into a missing collection with null.
 * Safe to run from several processes at once (one that loses the race finds it created).
 */
export async function ensureCollections(connection: Connection, names: readonly string[]): Promise<void> {
  const existing = new Set(
    (await connection.listCollections()).map((collection: { name: string }) => collection.name),
  );
  for (const name of names) {
    if (existing.has(name)) continue;
    try {
      await connection.createCollection(name);
    } catch (error) {
      if ((error as { code?: number }).code !== NAMESPACE_EXISTS) throw error;
    }
  }
}
