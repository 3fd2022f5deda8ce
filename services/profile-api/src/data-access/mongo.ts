import mongoose, { type Connection } from 'mongoose';
import { connectMongo, ensureCollections } from '@app/datastores';
import { AVATARS_COLLECTION } from './avatar-repository.ts';
import { COUNTERS_COLLECTION, type UserRepository } from './user-repository.ts';
import { USERS_COLLECTION } from './user-model.ts';

/**
 * Filters are sanitised ($-operators in user input become literals) and unknown paths are
 * rejected in queries and ignored on writes, so no request body can steer a query or a write.
 */
export async function connectProfileDatabase(url: string): Promise<Connection> {
  mongoose.set('sanitizeFilter', true);
  mongoose.set('strictQuery', 'throw');
  return connectMongo(url, { maxPoolSize: 50 });
}

/**
 * Everything profile-api's writes rely on, in place before the HTTP server listens: its
 * collections (created explicitly, never implicitly by a first concurrent write), the unique
 * indexes that decide email and phone uniqueness, and the id counter.
 */
export async function prepareProfileDatabase(connection: Connection, users: UserRepository): Promise<void> {
  await ensureCollections(connection, [USERS_COLLECTION, COUNTERS_COLLECTION, AVATARS_COLLECTION]);
  await users.prepare();
}
