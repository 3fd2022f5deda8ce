import mongoose, { type Connection } from 'mongoose';

/**
 * Filters are sanitised ($-operators in user input become literals) and unknown paths are
 * rejected in queries and ignored on writes, so no request body can steer a query or a write.
 */
export async function connectMongo(url: string): Promise<Connection> {
  mongoose.set('sanitizeFilter', true);
  mongoose.set('strictQuery', 'throw');
  const connection = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 10_000,
    maxPoolSize: 50,
    autoIndex: false,
  });
  await connection.asPromise();
  return connection;
}
