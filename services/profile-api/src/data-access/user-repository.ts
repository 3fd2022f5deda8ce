import mongoose, { type Connection, type Model, type UpdateQuery, type mongo } from 'mongoose';
import { currentTraceCarrier } from '@app/telemetry';
import type { CommitResult, CreateUserResult, NewUser, ProfileCommit, Users } from '../domain/ports.ts';
import type { User } from '../domain/user.ts';
import { duplicateKeyField } from './duplicate-key.ts';
import { outboxSnapshot } from './outbox-repository.ts';
import { userKey, userModel, type StoredOutboxEntry, type UserDocument } from './user-model.ts';

const { trusted } = mongoose;

export const COUNTERS_COLLECTION = 'counters';
const USERS_COUNTER = 'users';
/** OUTBOX_MAX_PENDING_PER_USER's default. */
export const DEFAULT_OUTBOX_MAX_PENDING = 100;

export interface UserRepositoryOptions {
  /** Unpublished events a user's outbox may hold; a commit that would add one more is refused. */
  outboxMaxPending?: number;
}

/** Fields that never leave the repository: the outbox is the relay's, the keys are internal. */
const INTERNAL_PROJECTION = {
  outbox: 0,
  outbox_since: 0,
  outbox_removals: 0,
  email_normalized: 0,
  phone_unique: 0,
} as const;
/** A profile read or commit never carries the credentials either: they are only for login. */
const PROFILE_PROJECTION = { ...INTERNAL_PROJECTION, password_hash: 0 } as const;
/** A commit's answer: the profile and the outbox it left, so the relay need not read it again. */
const COMMIT_PROJECTION = {
  outbox_since: 0,
  email_normalized: 0,
  phone_unique: 0,
  password_hash: 0,
} as const;

function toUser(document: UserDocument | null): User | null {
  if (!document) return null;
  const {
    _id,
    outbox: _outbox,
    outbox_since: _since,
    outbox_removals: _removals,
    email_normalized: _normalized,
    phone_unique: _claim,
    phone_verified,
    ...user
  } = document;
  // Documents from before phone_verified existed lack it: their phone counts as unverified.
  return { id: Number(_id), ...user, phone_verified: phone_verified === true };
}

/**
 * Users in MongoDB, one document each. Every write is a single atomic statement: uniqueness comes
 * from unique indexes (E11000), concurrent writers of one user from the version condition.
 */
export class UserRepository implements Users {
  private readonly users: Model<UserDocument>;
  private readonly counters;
  /** `outbox.<cap-1>`: the slot whose presence means the outbox is full. */
  private readonly outboxFullPath: string;

  constructor(
    connection: Connection,
    { outboxMaxPending = DEFAULT_OUTBOX_MAX_PENDING }: UserRepositoryOptions = {},
  ) {
    this.users = userModel(connection);
    this.counters = connection.collection<{ _id: string; seq: number }>(COUNTERS_COLLECTION);
    this.outboxFullPath = `outbox.${outboxMaxPending - 1}`;
  }

  /** The indexes and the id counter; run at start-up, after the collections exist, before traffic. */
  async prepare(): Promise<void> {
    await this.users.createIndexes();
    await this.counters.updateOne({ _id: USERS_COUNTER }, { $setOnInsert: { seq: 0 } }, { upsert: true });
  }

  /** Integer ids from a monotonic counter: one atomic $inc per user, no lock. */
  private async nextId(): Promise<number> {
    const counter = await this.counters.findOneAndUpdate(
      { _id: USERS_COUNTER },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!counter) throw new Error('the users counter returned no document');
    return counter.seq;
  }

  async create(user: NewUser): Promise<CreateUserResult> {
    const id = await this.nextId();
    try {
      const created = await this.users.create({
        ...user,
        _id: userKey(id),
        version: 1,
        email_normalized: user.email.toLowerCase(),
        outbox: [],
      });
      return { outcome: 'created', user: toUser(created.toObject())! };
    } catch (error) {
      if (duplicateKeyField(error) === 'email_normalized') return { outcome: 'email-taken' };
      throw error;
    }
  }

  async findById(id: number): Promise<User | null> {
    return toUser(await this.users.findOne({ _id: userKey(id) }, PROFILE_PROJECTION).lean<UserDocument>());
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
   * (then the newer one stays): one update conditional on the hash read. No version bump and no
   * event: the password is not profile data.
   */
  async replacePasswordHash(userId: number, expected: string, replacement: string): Promise<boolean> {
    const result = await this.users.updateOne(
      { _id: userKey(userId), password_hash: expected },
      { $set: { password_hash: replacement } },
    );
    return result.modifiedCount === 1;
  }

  /** Pages by `_id` (the id as a string, so in string order), served by the `_id` index. */
  async idsAfter(after: number | undefined, limit: number): Promise<number[]> {
    const filter = after === undefined ? {} : { _id: trusted({ $gt: userKey(after) }) };
    const documents = await this.users
      .find(filter, { _id: 1 })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<{ _id: string }[]>();
    return documents.map((document) => Number(document._id));
  }

  async isPhoneHeldByAnother(phone: string, userId: number): Promise<boolean> {
    // trusted(): our own operator, exempt from the sanitizeFilter that guards user input.
    return (await this.users.exists({ phone, _id: trusted({ $ne: userKey(userId) }) })) !== null;
  }

  /**
   * One conditional update: matches only while the version is the one the change was computed
   * from and the outbox has no event at index cap-1 (fewer than cap unpublished events), and sets
   * the fields, bumps the version, appends the event and keeps `outbox_since` at the oldest
   * unpublished event, all in the same single-document write. A phone claim goes in the same
   * write, so the unique index on `phone_unique` refuses it atomically. Concurrent commits cannot
   * overshoot the cap: each one is matched against the document as the previous one left it.
   * The answer carries the outbox as the write left it (see OutboxRelay.publishSoon).
   */
  async commitChange({
    userId,
    expectedVersion,
    set,
    event,
    phoneClaim,
  }: ProfileCommit): Promise<CommitResult> {
    const $set: Record<string, unknown> = { ...set, version: expectedVersion + 1 };
    // The request's trace goes with its event, for the relay's publish to continue (none when untraced).
    const trace = currentTraceCarrier();
    const entry: StoredOutboxEntry = trace ? { ...event, trace } : event;
    const update: UpdateQuery<UserDocument> = {
      $set,
      $push: { outbox: entry },
      $min: { outbox_since: new Date(event.occurred_at) },
    };
    if (phoneClaim === null) update.$unset = { phone_unique: 1 };
    else if (phoneClaim !== undefined) $set.phone_unique = phoneClaim;
    try {
      const _id = userKey(userId);
      // The driver's collection, not the model: every value here is ours and already validated, so
      // mongoose's query casting would only cost CPU on the hottest write.
      const updated = await (
        this.users.collection as unknown as mongo.Collection<UserDocument>
      ).findOneAndUpdate(
        { _id, version: expectedVersion, [this.outboxFullPath]: { $exists: false } },
        update as mongo.UpdateFilter<UserDocument>,
        { returnDocument: 'after', projection: COMMIT_PROJECTION },
      );
      if (updated) {
        const document = updated as UserDocument;
        return { outcome: 'committed', user: toUser(document)!, outbox: outboxSnapshot(document) };
      }
      // Nothing matched: a newer version (re-read and retry) or, at this version, a full outbox.
      // Should the relay drain it meanwhile, this answers conflict and the retry commits.
      const full = await this.users.exists({
        _id,
        version: expectedVersion,
        [this.outboxFullPath]: trusted({ $exists: true }),
      });
      return full ? { outcome: 'outbox-full' } : { outcome: 'conflict' };
    } catch (error) {
      if (duplicateKeyField(error) === 'phone_unique') return { outcome: 'phone-taken' };
      throw error;
    }
  }
}
