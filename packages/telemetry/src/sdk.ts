// The tracing SDK, configured in code. Loaded only by register.ts, only when tracing is configured:
// nothing here runs in tests or in a process without OTEL_* exporter settings.
import { hostname } from 'node:os';
import path from 'node:path';
import { DiagConsoleLogger, context, diag, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  diagLogLevelFromString,
} from '@opentelemetry/core';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { MongooseInstrumentation } from '@opentelemetry/instrumentation-mongoose';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  TracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { register as registerImportHooks } from 'import-in-the-middle/register-hooks.mjs';
import { batchSettings, samplerSpec, tracesExporters } from './env.ts';
import { PooledIdGenerator } from './ids.ts';
import { CallerContextIORedisInstrumentation } from './ioredis-caller-context.ts';
import { createSampler } from './sampler.ts';
import { setTracingHandle, type TracingHandle } from './lifecycle.ts';
import { unsampledAware } from './propagation.ts';
import { traceIncomingRequests } from './server-spans.ts';

/** Not yet stable, so not exported by semantic-conventions' main entry (its advice: copy it). */
const ATTR_HOST_NAME = 'host.name';

/** Probes and scrapes: every few seconds, of no interest in a trace. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * What the instrumentations patch when ESM code imports it. Only these go through the ESM hook, so the
 * rest of the module graph loads as it would without tracing; require() inside CommonJS packages
 * (mongoose → mongodb, express → router) is hooked separately by require-in-the-middle.
 */
const HOOKED_IMPORTS = ['ioredis', 'kafkajs', 'mongoose', 'mongodb', 'http', 'https'];

async function createExporter(
  name: 'zipkin' | 'otlp' | 'console',
  serviceName: string,
): Promise<SpanExporter> {
  switch (name) {
    case 'zipkin': {
      // OTEL_EXPORTER_ZIPKIN_ENDPOINT, default http://localhost:9411/api/v2/spans.
      const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
      return new ZipkinExporter({ serviceName });
    }
    case 'otlp': {
      // OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS, as the specification names them.
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter();
    }
    case 'console':
      return new ConsoleSpanExporter();
  }
}

/**
 * Incoming requests are traced by server-spans.ts, not here. Every instrumentation below does its work
 * only under an active span, so none under an unsampled request (see contextFor), and outgoing calls
 * start no trace of their own: the caller's sampling decision holds.
 */
export function createInstrumentations(): Instrumentation[] {
  return [
    new HttpInstrumentation({
      disableIncomingRequestInstrumentation: true,
      requireParentforOutgoingSpans: true,
    }),
    new UndiciInstrumentation({ requireParentforSpans: true }),
    // Commands outside a traced operation (pub/sub, background rounds) start no trace of their own.
    // Only the command name: keys hold session ids and user ids. Spans go to the command's caller,
    // also when auto-pipelining sends it with other callers' commands (see ioredis-caller-context.ts).
    new CallerContextIORedisInstrumentation({
      requireParentSpan: true,
      dbStatementSerializer: (command) => command,
    }),
    new MongooseInstrumentation({ requireParentSpan: true }),
    new MongoDBInstrumentation({ requireParentSpan: true }),
    new KafkaJsInstrumentation(),
  ];
}

/** The service's name: OTEL_SERVICE_NAME, else the folder the entry file lives in (`<service>/dist/start.js`). */
export function serviceNameFrom(env: NodeJS.ProcessEnv, entry = process.argv[1] ?? ''): string {
  return (
    env.OTEL_SERVICE_NAME?.trim() || path.basename(path.dirname(path.dirname(entry))) || 'unknown_service'
  );
}

/**
 * Starts tracing for this process: W3C propagation, AsyncLocalStorage context, the sampler and the
 * exporters named by OTEL_* variables, and the instrumentations. Resource attributes come from the
 * environment and the host only: no cloud detector probes a metadata address. No signal
 * handler is installed: the service flushes from its own stop path (flushTelemetry/shutdownTelemetry).
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<TracingHandle> {
  if (env.OTEL_LOG_LEVEL) diag.setLogger(new DiagConsoleLogger(), diagLogLevelFromString(env.OTEL_LOG_LEVEL));
  const serviceName = serviceNameFrom(env);
  const sampler = createSampler(samplerSpec(env));
  const exporters = await Promise.all(tracesExporters(env).map((name) => createExporter(name, serviceName)));
  const batch = batchSettings(env);

  registerImportHooks({ include: HOOKED_IMPORTS });

  // Zipkin repeats the resource on every span, so it is kept small: the service, its host name (the
  // container, so the replica) and OTEL_RESOURCE_ATTRIBUTES, which win; no host id or architecture,
  // no os/process detail (command lines), and no cloud detector probing a metadata address.
  const resource = resourceFromAttributes({ [ATTR_HOST_NAME]: hostname() })
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }));
  const provider = new TracerProvider({
    resource,
    sampler,
    idGenerator: new PooledIdGenerator(),
    spanProcessors: exporters.map((exporter) => new BatchSpanProcessor({ exporter, ...batch })),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    unsampledAware(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    ),
  );
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({ tracerProvider: provider, instrumentations: createInstrumentations() });
  traceIncomingRequests(provider.getTracer('@app/telemetry/http-server'), (path) => UNTRACED_PATHS.has(path));

  const handle: TracingHandle = {
    serviceName,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  setTracingHandle(handle);
  return handle;
}
