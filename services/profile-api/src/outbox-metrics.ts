import { Counter, Gauge, Histogram, type Registry } from '@app/service-kit';

export interface OutboxSources {
  /** Users whose outbox holds events (read at scrape time). */
  backlogSize: () => Promise<number>;
  /** When the oldest waiting event was written; undefined when none waits (read at scrape time). */
  oldestPendingSince: () => Promise<Date | undefined>;
}

/**
 * What the relay reports: events sent and how long Kafka took to acknowledge them, and what still
 * waits: users with events, and the age of the oldest event (the relay's delay, end to end).
 */
export function outboxMetrics(
  registry: Registry,
  sources: OutboxSources,
): { published: Counter; publishSeconds: Histogram } {
  const registers = [registry];
  new Gauge({
    name: 'profile_outbox_backlog_users',
    help: 'Users whose outbox holds events not yet published',
    registers,
    async collect() {
      this.set(await sources.backlogSize());
    },
  });
  new Gauge({
    name: 'profile_outbox_oldest_event_age_seconds',
    help: 'Age of the oldest event waiting in any outbox (0 when none waits)',
    registers,
    async collect() {
      const since = await sources.oldestPendingSince();
      this.set(since ? Math.max(0, (Date.now() - since.getTime()) / 1000) : 0);
    },
  });
  return {
    published: new Counter({
      name: 'profile_events_published_total',
      help: 'ProfileUpdated events the outbox relay published to Kafka',
      registers,
    }),
    publishSeconds: new Histogram({
      name: 'profile_outbox_publish_seconds',
      help: "Time from handing one user's pending events to the producer to Kafka's acknowledgement",
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}
