/**
 * Whether this process traces, from the standard OpenTelemetry variables alone: an exporter named
 * (`OTEL_TRACES_EXPORTER` other than `none`) or an exporter endpoint set, and `OTEL_SDK_DISABLED`
 * not `true`. Unset, nothing is loaded and the API stays a no-op (tests, benchmarks, local runs).
 */
export function telemetryEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporters === 'none') return false;
  return Boolean(
    exporters ||
    env.OTEL_EXPORTER_ZIPKIN_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
}

/** Exporters named by OTEL_TRACES_EXPORTER, or implied by the endpoint variable that is set. */
export function tracesExporters(env: NodeJS.ProcessEnv = process.env): ('zipkin' | 'otlp' | 'console')[] {
  const named = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name && name !== 'none');
  const list = named.length
    ? named
    : [
        ...(env.OTEL_EXPORTER_ZIPKIN_ENDPOINT ? ['zipkin'] : []),
        ...(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? ['otlp'] : []),
      ];
  for (const name of list) {
    if (name !== 'zipkin' && name !== 'otlp' && name !== 'console') {
      throw new Error(`OTEL_TRACES_EXPORTER: unsupported exporter "${name}" (zipkin, otlp, console, none)`);
    }
  }
  return [...new Set(list)] as ('zipkin' | 'otlp' | 'console')[];
}

export type SamplerSpec =
  | { kind: 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' }
  | { kind: 'traceidratio' | 'parentbased_traceidratio'; ratio: number };

/** Production default when OTEL_TRACES_SAMPLER is unset: follow the caller, else keep 1 trace in 10. */
export const DEFAULT_SAMPLER: SamplerSpec = { kind: 'parentbased_traceidratio', ratio: 0.1 };

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the specification defines them; a bad value throws. */
export function samplerSpec(env: NodeJS.ProcessEnv = process.env): SamplerSpec {
  const kind = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (!kind) return DEFAULT_SAMPLER;
  switch (kind) {
    case 'always_on':
    case 'always_off':
    case 'parentbased_always_on':
    case 'parentbased_always_off':
      return { kind };
    case 'traceidratio':
    case 'parentbased_traceidratio': {
      const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
      const ratio = arg ? Number(arg) : 1;
      if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
        throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number in [0, 1], got "${arg}"`);
      }
      return { kind, ratio };
    }
    default:
      throw new Error(
        `OTEL_TRACES_SAMPLER: unsupported sampler "${kind}" (always_on, always_off, traceidratio, ` +
          'parentbased_always_on, parentbased_always_off, parentbased_traceidratio)',
      );
  }
}

/** The batch span processor's settings (`OTEL_BSP_*`); the specification's name for each field. */
export interface BatchSettings {
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

/** The specification's defaults: a batch of 512 spans, or whatever waited 5 s. */
export const DEFAULT_BATCH: BatchSettings = {
  scheduledDelayMillis: 5_000,
  exportTimeoutMillis: 30_000,
  maxQueueSize: 2_048,
  maxExportBatchSize: 512,
};

const BATCH_VARIABLES: [keyof BatchSettings, string][] = [
  ['scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY'],
  ['exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT'],
  ['maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE'],
  ['maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
];

/**
 * OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_MAX_QUEUE_SIZE and
 * OTEL_BSP_MAX_EXPORT_BATCH_SIZE as the specification defines them (the SDK set up in code does not
 * read them itself); each a positive integer, a batch no larger than the queue. A bad value throws.
 */
export function batchSettings(env: NodeJS.ProcessEnv = process.env): BatchSettings {
  const settings = { ...DEFAULT_BATCH };
  for (const [field, name] of BATCH_VARIABLES) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`${name} must be a positive integer, got "${raw}"`);
    }
    settings[field] = value;
  }
  if (settings.maxExportBatchSize > settings.maxQueueSize) {
    throw new Error(
      `OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${settings.maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${settings.maxQueueSize})`,
    );
  }
  return settings;
}
