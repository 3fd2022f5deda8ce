import { AppError, type Logger } from '@app/service-kit';
import { LEASE_TIMEOUT, type EventPublisher, type Lease, type Outbox, type OutboxSnapshot } from './ports.ts';

export interface OutboxRelayOptions {
  outbox: Outbox;
  publisher: EventPublisher;
  /**
   * A per-user publishing lease shared by every replica. The database keeps each commit and each
   * removal atomic, but it cannot keep two replicas from publishing one user's outbox at once:
   * without the lease, replica B could publish a user's newer event while A still sends an older
   * one, and the topic would hold them out of order. With it, one user's events reach Kafka in
   * commit order, and an event goes out twice only after a crash or a lapsed lease.
   *
   * Each holder also leaves the next one a note: the user's outbox removal count as it leaves it.
   */
  lease: Lease;
  logger: Logger;
  /** How often the background relay looks for events the fast path left behind. */
  intervalMs: number;
  /** Events younger than this are the fast path's; the relay takes older ones. */
  graceMs: number;
  batchSize?: number;
  /** Users the background round publishes at once (each under its own lease); 8 unless set. */
  backlogConcurrency?: number;
  /** Events sent for one user, and how long Kafka took to acknowledge them. */
  onPublished?: (count: number, seconds: number) => void;
}

/**
 * Moves events from users' outboxes to Kafka. The fast path publishes right after a commit; the
 * background round picks up whatever a crash or a Kafka outage left behind, oldest first, several
 * users at once. Each user's events are sent in outbox order in one batch, then removed from the
 * outbox.
 *
 * The fast path usually needs no read of the outbox: the commit reported the outbox it left, with
 * the count of removals it had seen. Under the lease, the previous holder's note says the count as
 * it was at its release, and only lease holders remove events, so when the note equals the
 * commit's count nobody removed (so published) anything since the commit: the commit's outbox is
 * still exactly the pending events, in order, up to what later commits appended after it (those
 * schedule a flush of their own). Any other note, or none (the previous holder failed, crashed or
 * lost its lease), and the relay reads the outbox as before. A note one removal ahead of the commit's
 * count also names the events that removal took out (a commit that appended while the previous
 * holder published): the rest of the commit's outbox is pending (see pendingOf).
 */
export class OutboxRelay {
  private readonly options: OutboxRelayOptions;
  /** Users with a fast-path flush waiting for the lease, each with the newest outbox a commit reported. */
  private readonly scheduled = new Map<number, OutboxSnapshot | undefined>();
  private readonly inflight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(options: OutboxRelayOptions) {
    this.options = options;
  }

  start(): void {
    const round = async () => {
      await this.track(this.relayBacklog());
      if (!this.stopping) this.timer = setTimeout(round, this.options.intervalMs);
    };
    this.timer = setTimeout(round, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Fast path after a commit; several commits of one user before it runs coalesce into one flush.
   * `outbox` is the outbox as the commit left it, which may spare the flush its read.
   */
  publishSoon(userId: number, outbox?: OutboxSnapshot): void {
    if (this.stopping) return;
    if (this.scheduled.has(userId)) {
      this.scheduled.set(userId, newest(this.scheduled.get(userId), outbox));
      return;
    }
    this.scheduled.set(userId, outbox);
    void this.track(this.flush(userId));
  }

  /** Publishes every outbox event of one user; returns how many went out (0 when it failed). */
  async flush(userId: number): Promise<number> {
    try {
      return await this.publishUser(userId);
    } catch (error) {
      this.scheduled.delete(userId);
      this.options.logger.warn({ err: error, userId }, 'outbox events left for the relay');
      return 0;
    }
  }

  private async publishUser(userId: number): Promise<number> {
    // Connect before taking the lease, so a broker outage never holds it.
    await this.options.publisher.connect();
    return this.options.lease.withLease(`outbox:${userId}`, async (hold) => {
      // Commits reported after this point schedule a flush of their own.
      const committed = this.scheduled.get(userId);
      this.scheduled.delete(userId);
      const { entries, removals } =
        pendingOf(committed, hold.note) ?? (await this.options.outbox.eventsOf(userId));
      if (entries.length === 0) {
        // Nothing removed while this holder had the lease: the note it found still holds.
        hold.leave(
          hold.note !== undefined && parseNote(hold.note).count === removals ? hold.note : String(removals),
        );
        return 0;
      }
      const started = performance.now();
      await this.options.publisher.publish(entries);
      const seconds = (performance.now() - started) / 1000;
      const published = entries.map((entry) => entry.event.event_id);
      const after = await this.options.outbox.removePublished(userId, published, removals);
      hold.leave(noteAfter(after, removals, published));
      this.options.onPublished?.(entries.length, seconds);
      return entries.length;
    });
  }

  /**
   * One recovery round: the users with the oldest backlog, up to `backlogConcurrency` at once.
   * One user's events stay in order (one batch under that user's lease); users are independent,
   * so after an outage the backlog drains in parallel and a user whose lease another replica
   * holds is passed over (the next round retries it) instead of holding up the others. Any other
   * failure stops the round from starting more users: with Kafka away, they would fail the same way.
   */
  private async relayBacklog(): Promise<void> {
    let userIds: number[];
    try {
      const olderThan = new Date(Date.now() - this.options.graceMs);
      userIds = await this.options.outbox.usersWithBacklog(olderThan, this.options.batchSize ?? 100);
      if (userIds.length > 0) await this.options.publisher.connect();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox relay round stopped; retrying next round');
      return;
    }
    let next = 0;
    let failed = false;
    const drain = async () => {
      while (!this.stopping && !failed && next < userIds.length) {
        const userId = userIds[next++]!;
        try {
          await this.publishUser(userId);
        } catch (error) {
          if (error instanceof AppError && error.code === LEASE_TIMEOUT) {
            this.options.logger.info({ userId }, 'outbox of a user busy elsewhere; left for the next round');
            continue;
          }
          failed = true;
          this.options.logger.warn({ err: error, userId }, 'outbox relay round stopped; retrying next round');
        }
      }
    };
    const concurrency = Math.min(this.options.backlogConcurrency ?? 8, userIds.length);
    await Promise.all(Array.from({ length: concurrency }, drain));
  }

  private async track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    try {
      return await work;
    } finally {
      this.inflight.delete(work);
    }
  }
}

/**
 * The note a holder leaves: the removal count as it leaves it and, when its own removal was the
 * only one since the count it started from, the ids that removal took out (`<count>:<id>,<id>`).
 * With those, a commit that reported the outbox just before that removal (it appended while the
 * holder was publishing) still spares the next holder its read.
 */
function noteAfter(after: number, before: number, removed: string[]): string {
  return after === before + 1 ? `${after}:${removed.join(',')}` : String(after);
}

/** A note read: the removal count, and the ids its last removal took out when it names them. */
function parseNote(note: string): { count: number; removed?: string[] } {
  const colon = note.indexOf(':');
  if (colon < 0) return { count: Number(note) };
  return { count: Number(note.slice(0, colon)), removed: note.slice(colon + 1).split(',') };
}

/**
 * What a commit's outbox says is still pending, given the previous holder's note; undefined when
 * it cannot tell (then the outbox is read). The same count: nothing was removed since the commit,
 * so all of it. One less, and the note names what that one removal took: all of it but those.
 */
export function pendingOf(
  committed: OutboxSnapshot | undefined,
  note: string | undefined,
): OutboxSnapshot | undefined {
  if (!committed || note === undefined) return undefined;
  const { count, removed } = parseNote(note);
  if (committed.removals === count) return committed;
  if (!removed || committed.removals !== count - 1) return undefined;
  const taken = new Set(removed);
  return {
    entries: committed.entries.filter((entry) => !taken.has(entry.event.event_id)),
    removals: count,
  };
}

/**
 * Of two outboxes reported by commits of one user, the later commit's (its own event, last, has
 * the higher version): it holds whatever of the earlier one is still pending. Unknown if either is.
 */
function newest(a: OutboxSnapshot | undefined, b: OutboxSnapshot | undefined): OutboxSnapshot | undefined {
  if (!a || !b) return undefined;
  const version = (snapshot: OutboxSnapshot) => snapshot.entries.at(-1)?.event.profile_version ?? -1;
  return version(b) > version(a) ? b : a;
}
