import mongoose, { type Connection, type Model } from 'mongoose';
import type { KeyedLock } from '@app/service-kit';
import type { ProfileUpdatedEvent } from '@app/events';
import type { ProfileChanges, User } from '../domain/user.ts';
import { userKey, userModel, type UserDocument } from './user-model.ts';

export type NewUser = Omit<User, 'id' | 'version'>;

const DUPLICATE_KEY = 11000;
const { trusted } = mongoose;

/** Fields that never leave the repository: the outbox is the relay's, the key is internal. */
const INTERNAL_PROJECTION = { outbox: 0, outbox_since: 0, email_normalized: 0 } as const;

function toUser(document: UserDocument | null): User | null {
  if (!document) return null;
  const { _id, outbox: _outbox, outbox_since: _since, email_normalized: _normalized, ...user } = document;
  return { id: Number(_id), ...user };
}

export class EmailTakenError extends Error {}

export class UserRepository {
  private readonly users: Model<UserDocument>;
  private readonly counters;
  private readonly lock: KeyedLock;

  constructor(connection: Connection, lock: KeyedLock) {
    this.users = userModel(connection);
    this.counters = connection.collection<{ _id: string; seq: number }>('counters');
    this.lock = lock;
  }

  /**
   * Runs a read-modify-write of one user with no other writer of that user in between, on any
   * replica. MongoDB alone would not need it; FerretDB does (see KeyedLock).
   */
  exclusive<T>(userId: number, critical: () => Promise<T>): Promise<T> {
    return this.lock.withLock(`user:${userId}`, critical);
  }

  /** No two users can claim one number at once: checking and committing happen under its lock. */
  exclusivePhone<T>(phone: string, critical: () => Promise<T>): Promise<T> {
    return this.lock.withLock(`phone:${phone}`, critical);
  }

  async ensureIndexes(): Promise<void> {
    await this.users.createIndexes();
  }

  /** Integer ids from a monotonic counter: one atomic $inc per user. */
  private async nextId(): Promise<number> {
    return this.lock.withLock('counter:users', async () => {
      const counter = await this.counters.findOneAndUpdate(
        { _id: 'users' },
        { $inc: { seq: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      return counter!.seq;
    });
  }

  async create(user: NewUser): Promise<User> {
    const id = await this.nextId();
    try {
      const created = await this.users.create({
        ...user,
        _id: userKey(id),
        version: 1,
        email_normalized: user.email.toLowerCase(),
        outbox: [],
      });
      return toUser(created.toObject())!;
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) throw new EmailTakenError(user.email);
      throw error;
    }
  }

  async findById(id: number): Promise<User | null> {
    return toUser(await this.users.findOne({ _id: userKey(id) }, INTERNAL_PROJECTION).lean<UserDocument>());
  }

  async findByEmail(email: string): Promise<User | null> {
    return toUser(
      await this.users
        .findOne({ email_normalized: email.toLowerCase() }, INTERNAL_PROJECTION)
        .lean<UserDocument>(),
    );
  }

  /**
   * Swaps the password hash for a re-hash of the same password, unless it changed since it was read
   * (then the newer one stays). No version bump and no event: the password is not profile data.
   */
  async replacePasswordHash(userId: number, expected: string, replacement: string): Promise<boolean> {
    return this.exclusive(userId, async () => {
      const result = await this.users.updateOne(
        { _id: userKey(userId), password_hash: expected },
        { $set: { password_hash: replacement } },
      );
      return result.modifiedCount === 1;
    });
  }

  async isPhoneTakenByAnother(phone: string, userId: number): Promise<boolean> {
    // trusted(): our own operator, exempt from the sanitizeFilter that guards user input.
    return (await this.users.exists({ phone, _id: trusted({ $ne: userKey(userId) }) })) !== null;
  }

  /**
   * Applies a change only if nobody committed one since `expectedVersion` was read, bumping the
   * version and appending the event in the same single-document update (no transaction needed).
   * Returns null when another writer won; the caller re-reads and retries.
   */
  async commitChange(
    userId: number,
    expectedVersion: number,
    changes: ProfileChanges,
    event: ProfileUpdatedEvent,
  ): Promise<User | null> {
    const updated = await this.users
      .findOneAndUpdate(
        { _id: userKey(userId), version: expectedVersion },
        {
          $set: { ...changes, version: expectedVersion + 1 },
          $push: { outbox: event },
          $min: { outbox_since: new Date(event.occurred_at) },
        },
        // No projection: FerretDB does not implement one on findAndModify; toUser drops internals.
        { returnDocument: 'after' },
      )
      .lean<UserDocument>();
    return toUser(updated);
  }
}
