import mongoose, { type Connection } from 'mongoose';

/** One connection of its own (not mongoose's global one), so a process may hold several. */
export async function connectMongo(url: string): Promise<Connection> {
  const connection = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 10_000,
    maxPoolSize: 20,
    autoIndex: false,
  });
  await connection.asPromise();
  return connection;
}
