import { AppError, type Logger } from '@app/service-kit';
import { LEASE_TIMEOUT, type EventPublisher, type Lease, type Outbox } from './ports.ts';

export interface OutboxRelayOptions {
  outbox: Outbox;
  publisher: EventPublisher;
  /**
   * A per-user publishing lease shared by every replica. The database keeps each commit and each
   * removal atomic, but it cannot keep two replicas from publishing one user's outbox at once:
   * without the lease, replica B could publish a user's newer event while A still sends an older
   * one, and the topic would hold them out of order. With it, one user's events reach Kafka in
   * commit order, and an event goes out twice only after a crash or a lapsed lease.
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
 */
export class OutboxRelay {
  private readonly options: OutboxRelayOptions;
  private readonly scheduled = new Set<number>();
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

  /** Fast path after a commit; several commits of one user before it runs coalesce into one flush. */
  publishSoon(userId: number): void {
    if (this.stopping || this.scheduled.has(userId)) return;
    this.scheduled.add(userId);
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
    return this.options.lease.withLease(`outbox:${userId}`, async () => {
      this.scheduled.delete(userId);
      const entries = await this.options.outbox.eventsOf(userId);
      if (entries.length === 0) return 0;
      const started = performance.now();
      await this.options.publisher.publish(entries);
      const seconds = (performance.now() - started) / 1000;
      await this.options.outbox.removePublished(
        userId,
        entries.map((entry) => entry.event.event_id),
      );
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
