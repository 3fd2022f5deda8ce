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

  async backlogSize(): Promise<number> {
    return this.users.countDocuments({ outbox_since: trusted({ $exists: true }) });
  }

  /** When the oldest event still waiting anywhere was written; undefined when every outbox is empty. */
  async oldestPendingSince(): Promise<Date | undefined> {
    const oldest = await this.users
      .findOne({ outbox_since: trusted({ $exists: true }) }, { outbox_since: 1 })
      .sort({ outbox_since: 1 })
      .lean<Pick<UserDocument, 'outbox_since'>>();
    return oldest?.outbox_since;
  }

  /**
   * One atomic `$pull` of the published events by id: an event a commit appends meanwhile is
   * never touched. Then `outbox_since` follows what remains, each time conditionally on the
   * outbox still looking as it did, so a commit racing in only leaves it earlier, never later.
   */
  async removePublished(userId: number, eventIds: string[]): Promise<void> {
    const _id = userKey(userId);
    const after = await this.users
      .findOneAndUpdate(
        { _id },
        { $pull: { outbox: { event_id: { $in: eventIds } } } },
        { returnDocument: 'after', projection: { outbox: 1 } },
      )
      .lean<Pick<UserDocument, 'outbox'>>();
    if (!after) return;
    const oldest = after.outbox[0];
    if (!oldest) {
      await this.users.updateOne({ _id, outbox: trusted({ $size: 0 }) }, { $unset: { outbox_since: 1 } });
    } else {
      // Only the relay removes events, under its lease, so the first remaining event stays first.
      await this.users.updateOne(
        { _id, 'outbox.0.event_id': oldest.event_id },
        { $set: { outbox_since: new Date(oldest.occurred_at) } },
      );
    }
  }
}

function toEntry({ trace, ...event }: StoredOutboxEntry): OutboxEntry {
  return trace ? { event, trace } : { event };
}
