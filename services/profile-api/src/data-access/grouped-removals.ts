import type { mongo } from 'mongoose';
import { userKey, type UserDocument } from './user-model.ts';

/** Removals per statement at most; more wait for the next one. */
const MAX_BATCH = 500;
/** Reads of a statement's users before its removals that still do not match are removed alone. */
const READ_ATTEMPTS = 3;

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
 * is its `removals` + 1. Otherwise the statement's users are read in one query, and each removal:
 * - whose events are all gone (its update matched, or someone else removed them) answers the
 *   count as read;
 * - whose events are there with the known count (a commit appended events since: the usual
 *   reason) gets one exact update, grouped with the others: conditional on the outbox as read, it
 *   pulls the events and sets `outbox_since` to the oldest event left (should one of those not
 *   match either, another append in between, they are read again, up to READ_ATTEMPTS times);
 * - and anything else (a lapsed lease moved the count, the user is gone, a write failed) is
 *   removed alone, which answers the count as it is.
 * Only a second update of the same document could tell within the statement which updates
 * matched, and on this database an update that matches nothing costs about as much as one that
 * does, so the rarer read is cheaper.
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
    if (await this.grouped(batch, (removal) => emptyingUpdate(removal))) return;
    await this.settleByReading(batch, 1);
  }

  /**
   * Reads the removals' users in one query and settles each by what it finds. The exact updates
   * go out grouped again; should one of them not match (another append in between), the group is
   * read again, up to READ_ATTEMPTS times, so one late append does not send a whole statement's
   * removals the slow way.
   */
  private async settleByReading(removals: QueuedRemoval[], attempt: number): Promise<void> {
    let stored: Map<string, StoredOutbox>;
    try {
      const documents = await this.collection
        .find(
          { _id: { $in: removals.map(({ userId }) => userKey(userId)) } },
          { projection: { outbox: 1, outbox_removals: 1 } },
        )
        .toArray();
      stored = new Map(documents.map((document) => [document._id, document]));
    } catch {
      stored = new Map();
    }
    const exact = new Map<QueuedRemoval, StoredOutbox>();
    const alone: QueuedRemoval[] = [];
    for (const removal of removals) {
      const document = stored.get(userKey(removal.userId));
      const left = new Set(document?.outbox.map((event) => event.event_id));
      const present = removal.eventIds.filter((id) => left.has(id)).length;
      // Its statement did remove them, or someone else did: the count as read is the answer.
      if (document && present === 0) removal.done(document.outbox_removals ?? 0);
      else if (
        document &&
        present === removal.eventIds.length &&
        (document.outbox_removals ?? 0) === removal.removals
      )
        exact.set(removal, document);
      else alone.push(removal);
    }
    // Events appended since (the usual reason): with the outbox as read, one update each, again
    // grouped, removes them and leaves outbox_since at the oldest event left.
    if (exact.size > 0) {
      const again = [...exact.keys()];
      if (!(await this.grouped(again, (removal) => exactUpdate(removal, exact.get(removal)!)))) {
        if (attempt < READ_ATTEMPTS) await this.settleByReading(again, attempt + 1);
        else alone.push(...again);
      }
    }
    await Promise.all(
      alone.map(({ userId, eventIds, done, failed }) =>
        this.removeAlone(userId, eventIds).then(done, failed),
      ),
    );
  }

  /**
   * One unordered bulkWrite of an update per removal, each conditional on the count it knows.
   * True when every one matched (each answered its count + 1); false leaves them all unanswered.
   */
  private async grouped(
    removals: QueuedRemoval[],
    updateOf: (removal: QueuedRemoval) => mongo.AnyBulkWriteOperation<UserDocument>,
  ): Promise<boolean> {
    try {
      const result = await this.collection.bulkWrite(removals.map(updateOf), { ordered: false });
      if (result.matchedCount !== removals.length) return false;
    } catch {
      return false;
    }
    for (const removal of removals) removal.done(removal.removals + 1);
    return true;
  }
}

type StoredOutbox = Pick<UserDocument, '_id' | 'outbox' | 'outbox_removals'>;

/** The count unchanged since the caller knew it (absent until the first removal). */
const countIs = (removals: number) => (removals === 0 ? { $exists: false } : removals);

/** A removal: one atomic `$pull` of the published events by id, counted. Shared with removeAlone. */
export const pullOf = (eventIds: string[]) => ({
  $pull: { outbox: { event_id: { $in: eventIds } } },
  $inc: { outbox_removals: 1 },
});

/** The usual case, shared with removeAlone: the outbox holds exactly these events, so it empties. */
export const holdingOnly = (eventIds: string[]) => ({
  outbox: { $size: eventIds.length },
  'outbox.event_id': { $all: eventIds },
});
export const emptyingPull = (eventIds: string[]) => ({ ...pullOf(eventIds), $unset: { outbox_since: 1 } });

function emptyingUpdate({ userId, eventIds, removals }: Removal): mongo.AnyBulkWriteOperation<UserDocument> {
  return {
    updateOne: {
      filter: { _id: userKey(userId), outbox_removals: countIs(removals), ...holdingOnly(eventIds) },
      update: emptyingPull(eventIds),
    },
  } as mongo.AnyBulkWriteOperation<UserDocument>;
}

/**
 * The outbox exactly as read (same count: nothing removed; same size: nothing appended), so what
 * is left after the removal is known, and so is its oldest event.
 */
function exactUpdate(
  { userId, eventIds, removals }: Removal,
  document: StoredOutbox,
): mongo.AnyBulkWriteOperation<UserDocument> {
  const published = new Set(eventIds);
  const left = document.outbox.filter((event) => !published.has(event.event_id));
  const since =
    left.length === 0
      ? { $unset: { outbox_since: 1 } }
      : { $set: { outbox_since: new Date(Math.min(...left.map((event) => Date.parse(event.occurred_at)))) } };
  return {
    updateOne: {
      filter: {
        _id: userKey(userId),
        outbox_removals: countIs(removals),
        outbox: { $size: document.outbox.length },
        'outbox.event_id': { $all: eventIds },
      },
      update: { ...pullOf(eventIds), ...since },
    },
  } as mongo.AnyBulkWriteOperation<UserDocument>;
}
