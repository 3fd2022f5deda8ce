/**
 * What the OpenTelemetry SDK charges for the spans of one sampled GET, outside any server: the
 * SERVER span with the attributes server-spans.ts gives it and the two Redis CLIENT spans
 * instrumentation-ioredis makes, created and ended in a loop, through a batch span processor.
 *
 *   node bench/shared/span-cost.ts                    # no-op exporter: the SDK alone
 *   SINK=http://127.0.0.1:19412/api/v2/spans node bench/shared/span-cost.ts   # + Zipkin export
 *
 * Start the sink first (`node bench/shared/span-sink.ts 19412 &`). It prints µs of wall and CPU
 * time per GET, each the median of ROUNDS (5) rounds of GETS (200,000) GETs.
 */
import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode } from '@opentelemetry/core';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  TracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';

const sink = process.env.SINK;
const gets = Number(process.env.GETS ?? 200_000);
const rounds = Number(process.env.ROUNDS ?? 5);

const noExport: SpanExporter = {
  export: (_spans, done) => setImmediate(() => done({ code: ExportResultCode.SUCCESS })),
  shutdown: async () => {},
};
const exporter = sink ? new ZipkinExporter({ serviceName: 'profile-api', url: sink }) : noExport;
const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'profile-api', 'host.name': 'bench' }),
  sampler: new AlwaysOnSampler(),
  // A queue that never drops: the loop outruns any exporter.
  spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 1_000_000 })],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracer = provider.getTracer('span-cost');

function oneGet(): void {
  const server = tracer.startSpan('GET', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  server.setAttributes({
    'http.request.method': 'GET',
    'url.scheme': 'http',
    'url.path': '/users/profile/',
    'server.address': 'localhost',
    'client.address': '127.0.0.1',
    'network.protocol.version': '1.1',
    'user_agent.original': 'autocannon',
  });
  const parent = trace.setSpan(ROOT_CONTEXT, server);
  for (let i = 0; i < 2; i++) {
    const attributes = {
      'db.operation.name': 'PIPELINE get',
      'db.system.name': 'redis',
      'db.query.text': 'get',
      'server.address': 'localhost',
      'server.port': 6379,
    };
    tracer.startSpan('get', { kind: SpanKind.CLIENT, attributes }, parent).end();
  }
  server.setAttribute('http.route', '/users/profile/');
  server.updateName('GET /users/profile/');
  server.setAttribute('http.response.status_code', 200);
  server.end();
}

/** Yields every 20 GETs, so the batch processor's timers and the export's socket get their turn. */
async function run(count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    oneGet();
    if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await provider.forceFlush();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
await run(gets / 4);
const wall: number[] = [];
const cpu: number[] = [];
for (let round = 0; round < rounds; round++) {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run(gets);
  const used = process.cpuUsage(cpuBefore);
  wall.push(((performance.now() - started) * 1000) / gets);
  cpu.push((used.user + used.system) / gets);
}
console.log(
  `${sink ? `Zipkin export to ${sink}` : 'no export'}: µs per sampled GET (3 spans), median of ${rounds} rounds: ` +
    `wall ${median(wall).toFixed(2)}, CPU ${median(cpu).toFixed(2)}`,
);
await provider.shutdown();
