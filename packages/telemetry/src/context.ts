import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  createContextKey,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

/** W3C trace context as it travels with data: an outbox entry, a Kafka record's headers. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

const TRACER = '@app/telemetry';

/**
 * Where work of an unsampled span runs, the span context that it would have had is kept under this
 * key instead of an active span. Instrumentations (database clients, outgoing HTTP) look for an
 * active span and skip all their work without one, so an unsampled request costs next to nothing;
 * the context is still propagated (W3C `traceparent` with the sampled flag off, see
 * `unsampledAware` in propagation.ts), so whatever continues it downstream does not sample it either.
 */
const UNSAMPLED = createContextKey('@app/telemetry unsampled span context');

/** The span context an unsampled operation runs under (see UNSAMPLED), if any. */
export function unsampledSpanContext(ctx: Context): SpanContext | undefined {
  return ctx.getValue(UNSAMPLED) as SpanContext | undefined;
}

/**
 * The context to run a span's work in: the span active when it records; when the sampler dropped it,
 * no active span but its span context kept for propagation (see UNSAMPLED).
 */
export function contextFor(parent: Context, span: Span): Context {
  if (span.isRecording()) return trace.setSpan(parent, span);
  // Each step copies the context: no span to delete (a request without traceparent) saves one.
  const withoutSpan = trace.getSpan(parent) ? trace.deleteSpan(parent) : parent;
  return withoutSpan.setValue(UNSAMPLED, span.spanContext());
}

/** `ctx` as a parent: its span, or else its unsampled span context, so a child follows the decision. */
function asParent(ctx: Context): Context {
  if (trace.getSpan(ctx)) return ctx;
  const unsampled = unsampledSpanContext(ctx);
  return unsampled ? trace.setSpanContext(ctx, unsampled) : ctx;
}

/** The span context of the active span, or of the unsampled operation running; undefined outside both. */
function activeSpanContext(): SpanContext | undefined {
  const active = context.active();
  const spanContext = trace.getSpanContext(active) ?? unsampledSpanContext(active);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * pino mixin: `trace_id`, `span_id` and `trace_flags` of the span a log line is written in (`00` for
 * an unsampled one), nothing outside one. With tracing off it costs one lookup of the (empty) active
 * context. A fresh object each time: pino merges the line's own fields into it.
 */
export function traceFields(): Record<string, string> {
  const spanContext = activeSpanContext();
  if (!spanContext) return {};
  const { traceId, spanId, traceFlags } = spanContext;
  return { trace_id: traceId, span_id: spanId, trace_flags: traceFlags.toString(16).padStart(2, '0') };
}

/**
 * The active trace context as W3C headers (sampled or not), or undefined outside a span (or with
 * tracing off).
 */
export function currentTraceCarrier(): TraceCarrier | undefined {
  if (!activeSpanContext()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(asParent(context.active()), carrier);
  if (!carrier.traceparent) return undefined;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

/** Kafka headers are Buffers, strings or arrays of them. */
type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
const headerGetter: TextMapGetter<Record<string, HeaderValue>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : String(value);
  },
};

/** The context a carrier (outbox entry, Kafka headers) names, under the root; the root when none. */
export function contextFrom(carrier: TraceCarrier | Record<string, HeaderValue> | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier as Record<string, HeaderValue>, headerGetter);
}

/** Runs `work` with the carrier's context active (so instrumented calls inside continue its trace). */
export function withTraceContext<T>(
  carrier: TraceCarrier | Record<string, HeaderValue> | undefined,
  work: () => T,
): T {
  if (!carrier) return work();
  return context.with(contextFrom(carrier), work);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent; the active context when omitted. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs `work` inside a new span, ended when it settles; a rejection marks the span as an error and
 * is rethrown. With tracing off the API hands out a non-recording span: no allocation worth noting.
 * Unsampled, `work` runs with no active span (see contextFor).
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(TRACER);
  const parent = asParent(options.parent ?? context.active());
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await context.with(contextFor(parent, span), () => work(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}

/** A record about to be produced: its headers receive the producer span's `traceparent`. */
export interface ProducedRecord {
  headers: Record<string, string | Buffer | (string | Buffer)[] | undefined>;
  /** The context the record continues (the commit that made it); none: a trace of its own. */
  trace?: TraceCarrier;
  /** The record's key, as a span attribute. */
  key?: string;
}

/**
 * One PRODUCER span per record, each the child of the context its record carries rather than of
 * whoever sends the batch, and written into the record's headers: for sends that put records of
 * several traces into one request. Run the send itself under `withoutTracing`, or the Kafka client's
 * instrumentation writes its own span (one parent for all records) over these. Returns `end(error?)`.
 */
export function startProducerSpans(topic: string, records: ProducedRecord[]): (error?: unknown) => void {
  const tracer = trace.getTracer(TRACER);
  const spans = records.map((record) => {
    const parent = contextFrom(record.trace);
    const span = tracer.startSpan(
      `send ${topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.destination.name': topic,
          'messaging.kafka.message.key': record.key,
          'messaging.batch.message_count': records.length,
        },
      },
      parent,
    );
    propagation.inject(trace.setSpan(parent, span), record.headers);
    return span;
  });
  return (error) => {
    for (const span of spans) {
      if (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      }
      span.end();
    }
  };
}

/** Runs `work` with tracing suppressed: instrumented calls inside make no span and inject nothing. */
export function withoutTracing<T>(work: () => T): T {
  return context.with(suppressTracing(context.active()), work);
}

export { SpanKind, type Span };
