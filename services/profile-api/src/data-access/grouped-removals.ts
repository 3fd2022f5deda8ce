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
 * that arrive meanwhile go out together in the next one (one ordered bulkWrite: one round trip,
 * and the database's per-statement work shared). Under load that is one statement per round trip
 * instead of one per publish; each caller still waits for its own removal to be written, so the
 * relay releases a user's lease only once the user's removal is durable.
 *
 * Each removal is two updates, both conditional on the count the caller knows (no removal since)
 * and on every one of its events still being there:
 * - the outbox holds exactly those events: pull them, count the removal, drop `outbox_since` (the
 *   usual case, as in OutboxRepository.removeAlone);
 * - otherwise (a commit appended events since): pull them and count. `outbox_since` stays, earlier
 *   than needed, which its invariant allows: the appended events' own publish empties the outbox
 *   and drops it, or, should that fail, the relay's round publishes them a little early.
 * The first counts, so the second cannot match after it: a removal matches one of its two updates
 * or neither. When every removal of a statement matched one, each count is its `removals` + 1.
 * Otherwise (the count moved because a lease lapsed, an event or the user is gone, or the write
 * failed), every removal of that statement is done again alone, which answers the count as it is.
 * For a removal the statement did apply that is an empty `$pull` that counts once more: harmless,
 * since the count only has to change with every removal.
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
      const result = await this.collection.bulkWrite(batch.flatMap(updatesOf), { ordered: true });
      matched = result.matchedCount;
    } catch {
      // Settled one by one below: each caller gets its own answer or error.
    }
    if (matched === batch.length) {
      for (const removal of batch) removal.done(removal.removals + 1);
      return;
    }
    await Promise.all(
      batch.map(({ userId, eventIds, done, failed }) =>
        this.removeAlone(userId, eventIds).then(done, failed),
      ),
    );
  }
}

function updatesOf({ userId, eventIds, removals }: Removal): mongo.AnyBulkWriteOperation<UserDocument>[] {
  // The count is absent until the first removal.
  const unchanged = { _id: userKey(userId), outbox_removals: removals === 0 ? { $exists: false } : removals };
  const pull = { $pull: { outbox: { event_id: { $in: eventIds } } }, $inc: { outbox_removals: 1 } };
  return [
    {
      updateOne: {
        filter: { ...unchanged, outbox: { $size: eventIds.length }, 'outbox.event_id': { $all: eventIds } },
        update: { ...pull, $unset: { outbox_since: 1 } } as mongo.UpdateFilter<UserDocument>,
      },
    },
    {
      updateOne: {
        filter: { ...unchanged, 'outbox.event_id': { $all: eventIds } },
        update: pull as mongo.UpdateFilter<UserDocument>,
      },
    },
  ] as mongo.AnyBulkWriteOperation<UserDocument>[];
}
