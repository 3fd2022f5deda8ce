import { Counter, Gauge, Histogram, type Registry } from '@app/service-kit';

/**
 * What the relay reports: events sent and how long Kafka took to acknowledge them, users whose
 * outbox still holds events and the age of the
 * oldest unpublished event (both read at scrape time, from the `outbox_since` index), and changes
 * refused because a user's outbox reached OUTBOX_MAX_PENDING_PER_USER.
 */
export function outboxMetrics(
  registry: Registry,
  backlogSize: () => Promise<number>,
  oldestPendingSince: () => Promise<Date | undefined>,
): { published: Counter; publishSeconds: Histogram; capReached: Counter } {
  new Gauge({
    name: 'profile_api_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest ProfileUpdated event not yet published (0 when none is pending)',
    registers: [registry],
    async collect() {
      const since = await oldestPendingSince();
      this.set(since ? Math.max(0, (Date.now() - since.getTime()) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'profile_outbox_backlog_users',
    help: 'Users whose outbox holds events not yet published',
    registers: [registry],
    async collect() {
      this.set(await backlogSize());
    },
  });
  return {
    published: new Counter({
      name: 'profile_events_published_total',
      help: 'ProfileUpdated events the outbox relay published to Kafka',
      registers: [registry],
    }),
    publishSeconds: new Histogram({
      name: 'profile_outbox_publish_seconds',
      help: "Time from handing one user's pending events to the producer to Kafka's acknowledgement",
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    capReached: new Counter({
      name: 'profile_api_outbox_cap_reached_total',
      help: "Profile changes refused (503) because the user's outbox held OUTBOX_MAX_PENDING_PER_USER unpublished events",
      registers: [registry],
    }),
  };
}
