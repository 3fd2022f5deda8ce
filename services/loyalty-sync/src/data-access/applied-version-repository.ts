import type { Connection } from 'mongoose';
import type { AppliedVersion, AppliedVersions } from '../domain/sync-use-case.ts';

export const APPLIED_COLLECTION = 'loyalty_sync_applied';

interface AppliedDocument {
  _id: number;
  profile_version: number;
  event_id: string;
  applied_at: Date;
}

const DUPLICATE_KEY = 11000;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * The last version applied at the provider per user ({_id: user_id, profile_version, event_id,
 * applied_at}). One partition per user key means one writer per document at a time; the
 * conditional upsert keeps an older version from overwriting a newer one should two owners
 * briefly overlap during a rebalance (a newer document makes the upsert a duplicate-key error,
 * which is the "nothing to do" answer). Plain find and update: MongoDB and FerretDB alike.
 */
export class AppliedVersionRepository implements AppliedVersions {
  private readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  async lastAppliedVersion(userId: number): Promise<number | undefined> {
    const document = await this.collection().findOne({ _id: userId });
    return document?.profile_version;
  }

  async recordApplied({ userId, profileVersion, eventId }: AppliedVersion): Promise<void> {
    try {
      await this.collection().updateOne(
        { _id: userId, profile_version: { $lt: profileVersion } },
        { $set: { profile_version: profileVersion, event_id: eventId, applied_at: new Date() } },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  private collection() {
    return this.connection.collection<AppliedDocument>(APPLIED_COLLECTION);
  }
}
