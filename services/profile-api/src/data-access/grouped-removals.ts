import type { mongo } from 'mongoose';
import { userKey, type UserDocument } from './user-model.ts';

/** Removals per statement at most; more wait for the next one. */
const MAX_BATCH = 500;

/** Published events to take out of one user's outbox, whose removal count is `removals` now. */
export interface Removal {
  userId: number;
  eventIds: string[];
  removals: number;
}

interface QueuedRemoval extends Removal {
  done: (count: number) => void;
  failed: (error: unknown) => void;
}

/**
 * Outbox removals, group-committed: one removal statement in flight at a time, and the removals
 * that arrive meanwhile go out together in the next one (one unordered bulkWrite: one round trip,
 * and the database's per-statement work shared). Under load that is one statement per round trip
 * instead of one per publish; each caller still waits for its own removal to be written, so the
 * relay releases a user's lease only once the user's removal is durable.
 *
 * Each removal is the usual case of OutboxRepository.removeAlone, in one update: the outbox holds
 * exactly the published events and the count the caller knows (no removal since), so pull them,
 * count the removal and drop `outbox_since`. When all of a statement's updates matched, each count
 * is its `removals` + 1. Otherwise (a commit appended an event since, a lease lapsed, the user is
 * gone, or the write failed) the users of that statement are read in one query: a removal whose
 * events are all gone answers the count as read; one whose events are still there is removed
 * alone (which also moves `outbox_since` to what remains). Only a second update of the same
 * document could tell which updates matched, and on this database a non-matching update costs
 * about as much as a matching one, so the rarer read is cheaper.
 */
export class GroupedRemovals {
  private readonly collection: mongo.Collection<UserDocument>;
  private readonly removeAlone: (userId: number, eventIds: string[]) => Promise<number>;
  private readonly queue: QueuedRemoval[] = [];
  private writing = false;

  constructor(
    collection: mongo.Collection<UserDocument>,
    removeAlone: (userId: number, eventIds: string[]) => Promise<number>,
  ) {
    this.collection = collection;
    this.removeAlone = removeAlone;
  }

  /** Resolves with the user's removal count after this removal, once it is written. */
  remove(removal: Removal): Promise<number> {
    return new Promise<number>((done, failed) => {
      this.queue.push({ ...removal, done, failed });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) await this.write(this.queue.splice(0, MAX_BATCH));
    this.writing = false;
  }

  private async write(batch: QueuedRemoval[]): Promise<void> {
    let matched = -1;
    try {
      const result = await this.collection.bulkWrite(batch.map(updateOf), { ordered: false });
      matched = result.matchedCount;
    } catch {
      // Settled one by one below: each caller gets its own answer or error.
    }
    if (matched === batch.length) {
      for (const removal of batch) removal.done(removal.removals + 1);
      return;
    }
    let stored: Map<string, Pick<UserDocument, 'outbox' | 'outbox_removals'>>;
    try {
      const documents = await this.collection
        .find(
          { _id: { $in: batch.map(({ userId }) => userKey(userId)) } },
          { projection: { outbox: 1, outbox_removals: 1 } },
        )
        .toArray();
      stored = new Map(documents.map((document) => [document._id, document]));
    } catch {
      stored = new Map();
    }
    await Promise.all(
      batch.map(async ({ userId, eventIds, done, failed }) => {
        const document = stored.get(userKey(userId));
        const left = new Set(document?.outbox.map((event) => event.event_id));
        if (document && !eventIds.some((id) => left.has(id))) return done(document.outbox_removals ?? 0);
        return this.removeAlone(userId, eventIds).then(done, failed);
      }),
    );
  }
}

function updateOf({ userId, eventIds, removals }: Removal): mongo.AnyBulkWriteOperation<UserDocument> {
  return {
    updateOne: {
      filter: {
        _id: userKey(userId),
        // The count is absent until the first removal.
        outbox_removals: removals === 0 ? { $exists: false } : removals,
        outbox: { $size: eventIds.length },
        'outbox.event_id': { $all: eventIds },
      },
      update: {
        $pull: { outbox: { event_id: { $in: eventIds } } },
        $inc: { outbox_removals: 1 },
        $unset: { outbox_since: 1 },
      },
    },
  } as mongo.AnyBulkWriteOperation<UserDocument>;
}
