import { Counter, Gauge, type Registry } from '@app/service-kit';

/** What the relay reports: events sent, and users whose outbox still holds events (read at scrape time). */
export function outboxMetrics(
  registry: Registry,
  backlogSize: () => Promise<number>,
): { published: Counter } {
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
  };
}
