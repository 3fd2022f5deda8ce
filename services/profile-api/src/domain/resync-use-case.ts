import { WRITABLE_PROFILE_FIELDS, type ProfileUpdatedEvent } from '@app/events';
import type { Users } from './ports.ts';
import { MAX_COMMIT_ATTEMPTS, jitteredBackoff } from './profile-use-case.ts';
import { profileUpdatedEvent } from './profile-representation.ts';

/**
 * What resyncing one user came to:
 * - published: the event is committed and this command published the user's outbox;
 * - committed: the event is committed; the relay publishes it (Kafka was away, or a replica had
 *   the user's outbox in hand);
 * - not-found: no such user;
 * - failed: nothing was committed (`reason`: the outbox is full, or too many concurrent changes).
 */
export type UserResync =
  | { outcome: 'published' | 'committed'; event: ProfileUpdatedEvent }
  | { outcome: 'not-found' }
  | { outcome: 'failed'; reason: 'outbox-full' | 'update-contention' };

export interface ResyncCounts {
  users: number;
  published: number;
  committed: number;
  notFound: number;
  failed: number;
}

export interface ResyncDeps {
  users: Pick<Users, 'findById' | 'commitChange' | 'idsAfter'>;
  /** Publishes one user's outbox now (the relay's fast path); how many events went out, 0 if none. */
  publishOutbox: (userId: number) => Promise<number>;
  backoff?: (attempt: number) => Promise<void>;
}

export interface ResyncAllOptions {
  /** Users resynced at once. */
  concurrency: number;
  /** Ids read per page. */
  pageSize: number;
  /** After each user, with the counts so far. */
  onUser?: (userId: number, result: UserResync, counts: ResyncCounts) => void;
}

/**
 * Re-sends users' current profiles to Kafka (and so to the loyalty card service) through the
 * normal event path: each one a ProfileUpdated event with source `resync` naming every field,
 * committed like any change (the version read must still be current, version+1, appended to the
 * outbox after whatever is pending, subject to the outbox cap) and then published by the relay in
 * outbox order under the user's lease. Running it again only sends newer versions of the same
 * profiles; consumers apply each event once (Idempotency-Key = event id) and skip older versions.
 */
export class ResyncUseCase {
  private readonly deps: ResyncDeps;

  constructor(deps: ResyncDeps) {
    this.deps = deps;
  }

  async resyncUser(userId: number): Promise<UserResync> {
    const backoff = this.deps.backoff ?? jitteredBackoff;
    for (let attempt = 1; ; attempt += 1) {
      const user = await this.deps.users.findById(userId);
      if (!user) return { outcome: 'not-found' };
      const next = { ...user, version: user.version + 1 };
      const event = profileUpdatedEvent(next, WRITABLE_PROFILE_FIELDS, 'resync');
      const result = await this.deps.users.commitChange({
        userId,
        expectedVersion: user.version,
        set: {},
        event,
      });
      switch (result.outcome) {
        case 'committed': {
          const sent = await this.deps.publishOutbox(userId);
          return { outcome: sent > 0 ? 'published' : 'committed', event };
        }
        case 'outbox-full':
          return { outcome: 'failed', reason: 'outbox-full' };
        case 'phone-taken':
          // No claim is made by a resync; a store answering this would be broken.
          throw new Error(`the store refused a phone claim that resync did not make (user ${userId})`);
        case 'conflict':
          if (attempt >= MAX_COMMIT_ATTEMPTS) return { outcome: 'failed', reason: 'update-contention' };
          await backoff(attempt);
      }
    }
  }

  /** Every user, page by page, `concurrency` at a time; one user's failure does not stop the rest. */
  async resyncAll({ concurrency, pageSize, onUser }: ResyncAllOptions): Promise<ResyncCounts> {
    const counts: ResyncCounts = { users: 0, published: 0, committed: 0, notFound: 0, failed: 0 };
    let after: number | undefined;
    for (;;) {
      const page = await this.deps.users.idsAfter(after, pageSize);
      if (page.length === 0) return counts;
      after = page.at(-1);
      let next = 0;
      const work = async () => {
        while (next < page.length) {
          const userId = page[next++]!;
          const result = await this.resyncUser(userId);
          counts.users += 1;
          if (result.outcome === 'not-found') counts.notFound += 1;
          else counts[result.outcome] += 1;
          onUser?.(userId, result, counts);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, page.length) }, work));
    }
  }
}
