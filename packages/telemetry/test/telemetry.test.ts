import { PassThrough } from 'node:stream';
import { ROOT_CONTEXT, SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import {
  DEFAULT_SAMPLER,
  contextFrom,
  currentTraceCarrier,
  inSpan,
  samplerSpec,
  startProducerSpans,
  telemetryEnabled,
  traceFields,
  tracesExporters,
  withTraceContext,
  withoutTracing,
} from '../src/index.ts';
import { createSampler } from '../src/sampler.ts';

describe('telemetry settings (OTEL_* variables)', () => {
  it('when no exporter is configured, then tracing stays off', () => {
    expect(telemetryEnabled({})).toBe(false);
    expect(telemetryEnabled({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(telemetryEnabled({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });

  it('when an exporter or its endpoint is set, then tracing is on with that exporter', () => {
    expect(telemetryEnabled({ OTEL_TRACES_EXPORTER: 'zipkin' })).toBe(true);
    expect(telemetryEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: 'zipkin, otlp' })).toEqual(['zipkin', 'otlp']);
    expect(tracesExporters({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans' })).toEqual([
      'zipkin',
    ]);
    expect(() => tracesExporters({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(/unsupported exporter/);
  });

  it('when OTEL_TRACES_SAMPLER is unset, then the sampler follows the caller and keeps 10% of new traces', () => {
    expect(samplerSpec({})).toEqual(DEFAULT_SAMPLER);
    expect(DEFAULT_SAMPLER).toEqual({ kind: 'parentbased_traceidratio', ratio: 0.1 });
    expect(samplerSpec({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' })).toEqual({
      kind: 'parentbased_always_on',
    });
    expect(samplerSpec({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toEqual({
      kind: 'traceidratio',
      ratio: 0.25,
    });
    expect(() =>
      samplerSpec({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }),
    ).toThrow();
    expect(() => samplerSpec({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/unsupported sampler/);
  });

  it("when kafkajs's batch instrumentation opens a receive span with no parent, then it starts no trace", () => {
    const sampler = createSampler({ kind: 'always_on' });
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const receive = sampler.shouldSample(
      ROOT_CONTEXT,
      traceId,
      'poll profile.events.v1',
      SpanKind.CLIENT,
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'receive',
      },
      [],
    );
    const process = sampler.shouldSample(
      ROOT_CONTEXT,
      traceId,
      'process profile.events.v1',
      SpanKind.CONSUMER,
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
      },
      [],
    );
    expect(receive.decision).toBe(SamplingDecision.NOT_RECORD);
    expect(process.decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});

describe('trace context with a tracer registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  function captureLogs() {
    const out = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    out.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    });
    return { logger: pino({ mixin: traceFields }, out), lines };
  }

  it('when a line is logged inside a span, then it carries trace_id and span_id; outside one, neither', async () => {
    const { logger, lines } = captureLogs();
    logger.info('outside');
    let ids: { traceId: string; spanId: string } | undefined;
    await inSpan('work', {}, async (span) => {
      ids = span.spanContext();
      logger.info({ user_id: 7 }, 'inside');
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({
      msg: 'inside',
      user_id: 7,
      trace_id: ids!.traceId,
      span_id: ids!.spanId,
    });
  });

  it('when a carrier taken inside a span is continued later, then the new span is its child in the same trace', async () => {
    expect(currentTraceCarrier()).toBeUndefined();
    const carrier = await inSpan('request', {}, async () => currentTraceCarrier());
    expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // As the Kafka record carries it: a Buffer header.
    const headers = { traceparent: Buffer.from(carrier!.traceparent), other: Buffer.from('x') };
    await inSpan('process', { kind: SpanKind.CONSUMER, parent: contextFrom(headers) }, async () => undefined);
    await withTraceContext(carrier, () => inSpan('publish', {}, async () => undefined));

    const [request, processed, published] = exporter.getFinishedSpans();
    expect(processed!.spanContext().traceId).toBe(request!.spanContext().traceId);
    expect(processed!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(published!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
  });

  it("when records of two traces share one send, then each record's header names a child of its own trace", async () => {
    const first = await inSpan('commit A', {}, async () => currentTraceCarrier()!);
    const second = await inSpan('commit B', {}, async () => currentTraceCarrier()!);
    const records = [
      { headers: {} as Record<string, string>, trace: first, key: '1' },
      { headers: {} as Record<string, string>, trace: second, key: '2' },
    ];
    await inSpan('whoever sends', {}, async () => {
      const end = startProducerSpans('profile.events.v1', records);
      // What an instrumented client would see while sending: tracing suppressed, nothing injected.
      withoutTracing(() => expect(currentTraceCarrier()).toBeUndefined());
      end();
    });
    const traceOf = (traceparent: string) => traceparent.split('-')[1];
    expect(traceOf(records[0]!.headers.traceparent!)).toBe(traceOf(first.traceparent));
    expect(traceOf(records[1]!.headers.traceparent!)).toBe(traceOf(second.traceparent));
    const produced = exporter.getFinishedSpans().filter((span) => span.name === 'send profile.events.v1');
    expect(produced.map((span) => span.parentSpanContext?.spanId)).toEqual([
      first.traceparent.split('-')[2],
      second.traceparent.split('-')[2],
    ]);
    expect(records[0]!.headers.traceparent).toContain(produced[0]!.spanContext().spanId);
  });

  it('when the work fails, then its span is marked as an error and the error reaches the caller', async () => {
    await expect(
      inSpan('failing', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(exporter.getFinishedSpans()[0]?.status).toMatchObject({ code: 2, message: 'boom' });
  });
});
