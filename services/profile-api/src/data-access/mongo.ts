import mongoose, { type Connection } from 'mongoose';
import { connectMongo } from '@app/datastores';

/**
 * Filters are sanitised ($-operators in user input become literals) and unknown paths are
 * rejected in queries and ignored on writes, so no request body can steer a query or a write.
 */
export async function connectProfileDatabase(url: string): Promise<Connection> {
  mongoose.set('sanitizeFilter', true);
  mongoose.set('strictQuery', 'throw');
  return connectMongo(url, { maxPoolSize: 50 });
}
