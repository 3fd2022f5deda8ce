import mongoose, { type Connection, type Model, type mongo } from 'mongoose';
import type { Outbox, OutboxEntry, OutboxSnapshot } from '../domain/ports.ts';
import { GroupedRemovals, emptyingPull, holdingOnly, pullOf } from './grouped-removals.ts';
import { userKey, userModel, type StoredOutboxEntry, type UserDocument } from './user-model.ts';

const { trusted } = mongoose;

/**
 * The outbox side of the users collection: which users have unpublished events, their events in
 * order, and removing what was published.
 *
 * `outbox_since` invariant: while the outbox holds events, `outbox_since` exists and is no later
 * than its oldest event (commits `$push` and `$min` in one update); once the outbox is empty it is
 * removed. Nothing here takes a lock: each statement is atomic, and commits only append.
 *
 * `outbox_removals` counts the removals: every one increments it in the same write, and nothing
 * else takes events out, so two snapshots with the same count differ only by appended events.
 */
export class OutboxRepository implements Outbox {
  private readonly users: Model<UserDocument>;
  /**
   * The driver's collection, for the statements every publish runs: their values are ours, so
   * mongoose's casting would only cost CPU.
   */
  private readonly collection: mongo.Collection<UserDocument>;

  private readonly grouped: GroupedRemovals;

  constructor(connection: Connection) {
    this.users = userModel(connection);
    this.collection = this.users.collection as unknown as mongo.Collection<UserDocument>;
    this.grouped = new GroupedRemovals(this.collection, (userId, eventIds) =>
      this.removeAlone(userId, eventIds),
    );
  }

  /** Users whose oldest unpublished event is older than `olderThan`, oldest first. */
  async usersWithBacklog(olderThan: Date, limit: number): Promise<number[]> {
    const documents = await this.users
      .find({ outbox_since: trusted({ $lte: olderThan }) }, { _id: 1 })
      .sort({ outbox_since: 1 })
      .limit(limit)
      .lean<{ _id: string }[]>();
    return documents.map((document) => Number(document._id));
  }

  async eventsOf(userId: number): Promise<OutboxSnapshot> {
    const document = await this.collection.findOne(
      { _id: userKey(userId) },
      { projection: { outbox: 1, outbox_removals: 1 } },
    );
    return outboxSnapshot(document);
  }

  /** One index entry: the smallest `outbox_since`, which is each user's oldest unpublished event. */
  async oldestPendingSince(): Promise<Date | undefined> {
    const oldest = await this.users
      .findOne({ outbox_since: trusted({ $exists: true }) }, { _id: 0, outbox_since: 1 })
      .sort({ outbox_since: 1 })
      .lean<Pick<UserDocument, 'outbox_since'>>();
    return oldest?.outbox_since ?? undefined;
  }

  async backlogSize(): Promise<number> {
    return this.users.countDocuments({ outbox_since: trusted({ $exists: true }) });
  }

  /**
   * With `removals` (the count the caller knows the outbox to have; see Outbox.removePublished),
   * the removal is group-committed: while one removal statement is in flight, the next users'
   * removals gather and go out together in the next one (see GroupedRemovals). Without it, or
   * should the grouped statement not match, it is removed alone (removeAlone).
   */
  removePublished(userId: number, eventIds: string[], removals?: number): Promise<number> {
    if (removals === undefined) return this.removeAlone(userId, eventIds);
    return this.grouped.remove({ userId, eventIds, removals });
  }

  /**
   * One atomic `$pull` of the published events by id: an event a commit appends meanwhile is
   * never touched. Then `outbox_since` follows what remains, each time conditionally on the
   * outbox still looking as it did, so a commit racing in only leaves it earlier, never later.
   */
  private async removeAlone(userId: number, eventIds: string[]): Promise<number> {
    const _id = userKey(userId);
    // The usual case, in one write: the outbox holds exactly the published events (nothing was
    // appended meanwhile), so the same $pull empties it and drops outbox_since.
    const emptied = await this.collection.findOneAndUpdate(
      { _id, ...holdingOnly(eventIds) },
      emptyingPull(eventIds) as mongo.UpdateFilter<UserDocument>,
      { returnDocument: 'after', projection: { _id: 0, outbox_removals: 1 } },
    );
    if (emptied) return emptied.outbox_removals ?? 0;
    const after = await this.users
      .findOneAndUpdate({ _id }, pullOf(eventIds), {
        returnDocument: 'after',
        projection: { outbox: 1, outbox_since: 1, outbox_removals: 1 },
      })
      .lean<Pick<UserDocument, 'outbox' | 'outbox_since' | 'outbox_removals'>>();
    if (!after) return 0;
    const removals = after.outbox_removals ?? 0;
    const remaining = after.outbox;
    if (remaining.length === 0) {
      await this.users.updateOne({ _id, outbox: trusted({ $size: 0 }) }, { $unset: { outbox_since: 1 } });
      return removals;
    }
    // Events appended concurrently need not be in time order, so the earliest of those left is
    // taken, and only if nothing was appended since (an append's $min may have lowered it, or its
    // event may be earlier still): otherwise outbox_since stays where it was, earlier than needed.
    const earliest = Math.min(...remaining.map((event) => Date.parse(event.occurred_at)));
    await this.users.updateOne(
      { _id, outbox: trusted({ $size: remaining.length }), outbox_since: after.outbox_since },
      { $set: { outbox_since: new Date(earliest) } },
    );
    return removals;
  }
}

/** The outbox part of a stored user (none when the user is gone). */
export function outboxSnapshot(
  document: Pick<UserDocument, 'outbox' | 'outbox_removals'> | null | undefined,
): OutboxSnapshot {
  return { entries: (document?.outbox ?? []).map(toEntry), removals: document?.outbox_removals ?? 0 };
}

function toEntry({ trace, ...event }: StoredOutboxEntry): OutboxEntry {
  return trace ? { event, trace } : { event };
}
