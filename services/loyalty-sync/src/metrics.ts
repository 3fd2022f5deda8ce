import { Counter, Gauge, Histogram, createMetricsRegistry, type Registry } from '@app/service-kit';
import type { BreakerState, CallOutcome } from './data-access/loyalty-card-client.ts';

export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface LoyaltySyncMetrics {
  registry: Registry;
  providerCalls: Counter<'outcome'>;
  providerCallSeconds: Histogram<'outcome'>;
  providerAuthFailures: Counter;
  breakerState: Gauge;
  breakerTransitions: Counter<'state'>;
  eventsApplied: Counter<'result'>;
  eventsSkipped: Counter<'reason'>;
  eventsDeadLettered: Counter<'reason'>;
  partitionPauses: Counter<'cause'>;
  pausedPartitions: Gauge;
  consumerLag: Gauge<'partition'>;
  recordCall(outcome: CallOutcome, seconds: number): void;
}

export interface MetricSources {
  /** Partitions this consumer holds paused right now. */
  pausedPartitions: () => number;
  /** The provider refuses our API key right now (delivery paused on it). */
  authBlocked: () => boolean;
  /** The live setting as this process sees it (collected at scrape time). */
  loyaltySetting: () => Promise<{ enabled: boolean; sync_all_updates: boolean }>;
}

export function createLoyaltySyncMetrics(sources: MetricSources): LoyaltySyncMetrics {
  const registry = createMetricsRegistry('loyalty-sync');
  // A scrape must not fail because the settings database is away: the gauges keep their last value.
  const readSetting = () => sources.loyaltySetting().catch(() => undefined);
  const registers = [registry];
  const counter = <Label extends string>(name: string, help: string, label: Label) =>
    new Counter({ name, help, labelNames: [label] as const, registers });
  const providerCalls = counter(
    'loyalty_sync_provider_calls_total',
    'Calls to the loyalty card service by outcome',
    'outcome',
  );
  const providerCallSeconds = new Histogram({
    name: 'loyalty_sync_provider_call_seconds',
    help: 'Duration of calls to the loyalty card service',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  // Alert on these: unlike an outage, a refused key does not heal by itself.
  const providerAuthFailures = new Counter({
    name: 'loyalty_sync_provider_auth_failures_total',
    help: 'Calls the loyalty card service answered 401/403 (API key refused); delivery pauses on them',
    registers,
  });
  new Gauge({
    name: 'loyalty_sync_provider_auth_blocked',
    help: '1 while the loyalty card service refuses the API key and delivery waits for a working one',
    registers,
    collect() {
      this.set(sources.authBlocked() ? 1 : 0);
    },
  });
  const breakerState = new Gauge({
    name: 'loyalty_sync_breaker_state',
    help: 'Circuit of the loyalty card service: 0 closed, 1 half-open, 2 open',
    registers,
  });
  const breakerTransitions = counter(
    'loyalty_sync_breaker_transitions_total',
    'Circuit state changes by the state entered',
    'state',
  );
  const eventsApplied = counter(
    'loyalty_sync_events_applied_total',
    'Events delivered to the loyalty card service (result: applied, or replayed by its idempotency key)',
    'result',
  );
  const eventsSkipped = counter(
    'loyalty_sync_events_skipped_total',
    'Events acknowledged without a call (disabled, source, stale)',
    'reason',
  );
  const eventsDeadLettered = counter(
    'loyalty_sync_events_dead_lettered_total',
    'Events sent to the dead-letter topic by reason',
    'reason',
  );
  const partitionPauses = counter(
    'loyalty_sync_partition_pauses_total',
    'Times partitions were paused (cause: circuit-open, circuit-rejected, provider-failing, infrastructure)',
    'cause',
  );
  const pausedPartitions = new Gauge({
    name: 'loyalty_sync_paused_partitions',
    help: 'Partitions of this consumer currently paused',
    registers,
    collect() {
      this.set(sources.pausedPartitions());
    },
  });
  const consumerLag = new Gauge({
    name: 'loyalty_sync_consumer_lag',
    help: 'Records behind the high watermark, per partition, as of the last message handled',
    labelNames: ['partition'] as const,
    registers,
  });
  new Gauge({
    name: 'loyalty_sync_setting_enabled',
    help: 'CUSTOMER_LOYALTY_CARD_SERVICE.enabled as this process reads it (1 enabled)',
    registers,
    async collect() {
      const setting = await readSetting();
      if (setting) this.set(setting.enabled ? 1 : 0);
    },
  });
  new Gauge({
    name: 'loyalty_sync_setting_sync_all_updates',
    help: 'CUSTOMER_LOYALTY_CARD_SERVICE.sync_all_updates as this process reads it (1 all sources)',
    registers,
    async collect() {
      const setting = await readSetting();
      if (setting) this.set(setting.sync_all_updates ? 1 : 0);
    },
  });
  return {
    registry,
    providerCalls,
    providerCallSeconds,
    providerAuthFailures,
    breakerState,
    breakerTransitions,
    eventsApplied,
    eventsSkipped,
    eventsDeadLettered,
    partitionPauses,
    pausedPartitions,
    consumerLag,
    recordCall(outcome, seconds) {
      providerCalls.inc({ outcome });
      if (outcome === 'unauthorized') providerAuthFailures.inc();
      providerCallSeconds.observe({ outcome }, seconds);
    },
  };
}
