import mongoose, { type Connection, type Model } from 'mongoose';
import type { Outbox, OutboxEntry } from '../domain/ports.ts';
import { userKey, userModel, type StoredOutboxEntry, type UserDocument } from './user-model.ts';

const { trusted } = mongoose;

/**
 * The outbox side of the users collection: which users have unpublished events, their events in
 * order, and removing what was published.
 *
 * `outbox_since` invariant: while the outbox holds events, `outbox_since` exists and is no later
 * than its oldest event (commits `$push` and `$min` in one update); once the outbox is empty it is
 * removed. Nothing here takes a lock: each statement is atomic, and commits only append.
 */
export class OutboxRepository implements Outbox {
  private readonly users: Model<UserDocument>;

  constructor(connection: Connection) {
    this.users = userModel(connection);
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

  async eventsOf(userId: number): Promise<OutboxEntry[]> {
    const document = await this.users.findOne({ _id: userKey(userId) }, { outbox: 1 }).lean<UserDocument>();
    return (document?.outbox ?? []).map(toEntry);
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
   * One atomic `$pull` of the published events by id: an event a commit appends meanwhile is
   * never touched. Then `outbox_since` follows what remains, each time conditionally on the
   * outbox still looking as it did, so a commit racing in only leaves it earlier, never later.
   */
  async removePublished(userId: number, eventIds: string[]): Promise<void> {
    const _id = userKey(userId);
    // The usual case, in one write: the outbox holds exactly the published events (nothing was
    // appended meanwhile), so the same $pull empties it and drops outbox_since.
    const emptied = await this.users.updateOne(
      { _id, outbox: trusted({ $size: eventIds.length }), 'outbox.event_id': trusted({ $all: eventIds }) },
      { $pull: { outbox: { event_id: { $in: eventIds } } }, $unset: { outbox_since: 1 } },
    );
    if (emptied.modifiedCount === 1) return;
    const after = await this.users
      .findOneAndUpdate(
        { _id },
        { $pull: { outbox: { event_id: { $in: eventIds } } } },
        { returnDocument: 'after', projection: { outbox: 1, outbox_since: 1 } },
      )
      .lean<Pick<UserDocument, 'outbox' | 'outbox_since'>>();
    if (!after) return;
    const remaining = after.outbox;
    if (remaining.length === 0) {
      await this.users.updateOne({ _id, outbox: trusted({ $size: 0 }) }, { $unset: { outbox_since: 1 } });
      return;
    }
    // Events appended concurrently need not be in time order, so the earliest of those left is
    // taken, and only if nothing was appended since (an append's $min may have lowered it, or its
    // event may be earlier still): otherwise outbox_since stays where it was, earlier than needed.
    const earliest = Math.min(...remaining.map((event) => Date.parse(event.occurred_at)));
    await this.users.updateOne(
      { _id, outbox: trusted({ $size: remaining.length }), outbox_since: after.outbox_since },
      { $set: { outbox_since: new Date(earliest) } },
    );
  }
}

function toEntry({ trace, ...event }: StoredOutboxEntry): OutboxEntry {
  return trace ? { event, trace } : { event };
}
