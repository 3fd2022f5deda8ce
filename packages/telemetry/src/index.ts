// What services import: light, @opentelemetry/api only. The SDK and the instrumentations are loaded
// by the preload (`node --import @app/telemetry/register`) and only when tracing is configured.
export {
  SpanKind,
  type Span,
  contextFrom,
  currentTraceCarrier,
  inSpan,
  startProducerSpans,
  traceFields,
  withTraceContext,
  withoutTracing,
  type ProducedRecord,
  type SpanOptions,
  type TraceCarrier,
} from './context.ts';
export { DEFAULT_SAMPLER, samplerSpec, telemetryEnabled, tracesExporters, type SamplerSpec } from './env.ts';
export { flushTelemetry, shutdownTelemetry, tracingHandle, type TracingHandle } from './lifecycle.ts';
