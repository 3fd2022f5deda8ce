import { Counter, type Registry } from '@app/service-kit';

export type SmsOutcome = 'sent' | 'refused' | 'unavailable';

export interface ProfileApiMetrics {
  /** Profile changes committed (each one an outbox event), by the endpoint family that made them. */
  committed: Counter<'source'>;
  /** Writes answered 503 by admission instead of being started. */
  shed: Counter;
  /** SMS handed to the gateway: sent, refused by it (4xx), or not delivered (down, timeout, circuit open). */
  sms: Counter<'outcome'>;
}

/** What the dashboards read besides HTTP latency and the outbox (outbox-metrics.ts). */
export function profileApiMetrics(registry: Registry): ProfileApiMetrics {
  const registers = [registry];
  return {
    committed: new Counter({
      name: 'profile_updates_committed_total',
      help: 'Profile changes committed with their ProfileUpdated event, by source',
      labelNames: ['source'] as const,
      registers,
    }),
    shed: new Counter({
      name: 'profile_writes_shed_total',
      help: 'State-changing requests answered 503 + Retry-After because no write slot freed up in time',
      registers,
    }),
    sms: new Counter({
      name: 'profile_sms_total',
      help: 'Verification SMS by outcome (sent, refused by the gateway, unavailable)',
      labelNames: ['outcome'] as const,
      registers,
    }),
  };
}
