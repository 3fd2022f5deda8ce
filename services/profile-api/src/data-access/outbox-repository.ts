import mongoose, { type Connection, type Model } from 'mongoose';
import type { ProfileUpdatedEvent } from '@app/events';
import type { KeyedLock } from '@app/service-kit';
import type { Outbox } from '../domain/ports.ts';
import { userKey, userModel, type UserDocument } from './user-model.ts';

const { trusted } = mongoose;

/**
 * The outbox side of the users collection: which users have unpublished events, their events in
 * order, and removing what was published. Removal runs under the same per-user lock as profile
 * commits, so an event appended meanwhile is never lost.
 */
export class OutboxRepository implements Outbox {
  private readonly users: Model<UserDocument>;
  private readonly lock: KeyedLock;

  constructor(connection: Connection, lock: KeyedLock) {
    this.users = userModel(connection);
    this.lock = lock;
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

  async eventsOf(userId: number): Promise<ProfileUpdatedEvent[]> {
    const document = await this.users.findOne({ _id: userKey(userId) }, { outbox: 1 }).lean<UserDocument>();
    return document?.outbox ?? [];
  }

  async backlogSize(): Promise<number> {
    return this.users.countDocuments({ outbox_since: trusted({ $exists: true }) });
  }

  async removePublished(userId: number, eventIds: string[]): Promise<void> {
    const published = new Set(eventIds);
    await this.lock.withLock(`user:${userId}`, async () => {
      const remaining = (await this.eventsOf(userId)).filter((event) => !published.has(event.event_id));
      const oldest = remaining[0];
      await this.users.updateOne(
        { _id: userKey(userId) },
        oldest
          ? { $set: { outbox: remaining, outbox_since: new Date(oldest.occurred_at) } }
          : { $set: { outbox: [] }, $unset: { outbox_since: 1 } },
      );
    });
  }
}
