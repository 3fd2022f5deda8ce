import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { currentTraceCarrier, inSpan, traceFields } from '../src/index.ts';
import { unsampledAware } from '../src/propagation.ts';
import { createSampler } from '../src/sampler.ts';
import { traceIncomingRequests } from '../src/server-spans.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/** What a handler saw of the trace while it ran. */
interface Seen {
  activeSpan: boolean;
  carrier: string | undefined;
  injected: string | undefined;
  childCarrier: string | undefined;
  log: Record<string, unknown>;
}

describe('incoming HTTP requests (server-spans.ts), sampling no new trace unless the caller sampled it', () => {
  const exporter = new InMemorySpanExporter();
  // Root ratio 0: a request without a sampled traceparent is never sampled, so each case is certain.
  const provider = new TracerProvider({
    sampler: createSampler({ kind: 'parentbased_traceidratio', ratio: 0 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  let undo: () => void;
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(unsampledAware(new W3CTraceContextPropagator()));
    trace.setGlobalTracerProvider(provider);
    undo = traceIncomingRequests(provider.getTracer('test'), (path) => path === '/healthz');
    server = http.createServer((request, response) => {
      // As express leaves them once a route matched.
      Object.assign(request, { baseUrl: '/users', route: { path: '/:id' } });
      // The body arrives later, in callbacks of its own: the context must still be there.
      request.resume();
      request.on('end', async () => {
        const out = new PassThrough();
        pino({ mixin: traceFields }, out).info('inside');
        const injected: Record<string, string> = {};
        propagation.inject(context.active(), injected);
        const seen: Seen = {
          activeSpan: trace.getActiveSpan() !== undefined,
          carrier: currentTraceCarrier()?.traceparent,
          injected: injected.traceparent,
          childCarrier: await inSpan('child', {}, async () => currentTraceCarrier()?.traceparent),
          log: JSON.parse(String(out.read())) as Record<string, unknown>,
        };
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(seen));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    undo();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  async function get(path: string, headers: Record<string, string> = {}): Promise<Seen> {
    const response = await fetch(`${url}${path}`, { headers });
    return (await response.json()) as Seen;
  }

  it('when a request is not sampled, then no span is active or exported, yet its trace context goes on, marked not sampled', async () => {
    const seen = await get('/users/7');
    expect(seen.activeSpan).toBe(false);
    expect(seen.carrier).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    const traceId = seen.carrier!.split('-')[1];
    // Outgoing calls, the child operation and the log line all name the same, unsampled trace.
    expect(seen.injected).toBe(seen.carrier);
    expect(seen.childCarrier?.split('-')[1]).toBe(traceId);
    expect(seen.childCarrier).toMatch(/-00$/);
    expect(seen.log).toMatchObject({ trace_id: traceId, trace_flags: '00' });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it("when the caller's traceparent is not sampled, then the request continues the caller's trace, unsampled", async () => {
    const seen = await get('/users/7', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-00` });
    expect(seen.activeSpan).toBe(false);
    expect(seen.carrier).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it("when the caller's traceparent is sampled, then one SERVER span continues its trace, named after the route", async () => {
    const seen = await get('/users/7?x=1', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` });
    expect(seen.activeSpan).toBe(true);
    const spans = exporter.getFinishedSpans();
    const server = spans.find((span) => span.name === 'GET /users/:id');
    expect(server).toBeDefined();
    expect(server!.spanContext().traceId).toBe(TRACE_ID);
    expect(server!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'url.path': '/users/7',
      'http.response.status_code': 200,
    });
    expect(seen.carrier).toBe(`00-${TRACE_ID}-${server!.spanContext().spanId}-01`);
    expect(seen.log).toMatchObject({ trace_id: TRACE_ID, span_id: server!.spanContext().spanId });
    // The child operation is a sampled span of the same trace.
    expect(spans.find((span) => span.name === 'child')?.parentSpanContext?.spanId).toBe(
      server!.spanContext().spanId,
    );
  });

  it('when a probe is requested, then nothing is traced or propagated, even with a sampled traceparent', async () => {
    const seen = await get('/healthz', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` });
    expect(seen).toMatchObject({ activeSpan: false });
    expect(seen.carrier).toBeUndefined();
    expect(seen.injected).toBeUndefined();
    expect(seen.log).not.toHaveProperty('trace_id');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
