/**
 * A span collector that keeps nothing: it accepts Zipkin v2 JSON posts (`/api/v2/spans`), counts the
 * spans and answers 202. Pointing a tracing variant at it measures what tracing costs the service
 * itself (spans, export, the POST), without a collector's own CPU on the same cores: Zipkin's JVM
 * ingesting thousands of spans a second is a cost of the backend, which production runs elsewhere.
 *
 *   node bench/shared/span-sink.ts [port]        # default 19412; Ctrl-C prints the totals
 *
 * Every 10 s and on exit it prints one JSON line: posts, spans, bytes, and its own CPU in ms.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 19412);
const totals = { posts: 0, spans: 0, bytes: 0 };

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    totals.posts += 1;
    totals.bytes += body.length;
    // Each span is one object with a traceId: counted without parsing the whole body.
    totals.spans += body.toString('latin1').split('"traceId"').length - 1;
    response.writeHead(202).end();
  });
});

function report(): void {
  const { user, system } = process.cpuUsage();
  console.log(JSON.stringify({ ...totals, cpuMs: Math.round((user + system) / 1000) }));
}

server.listen(port, '127.0.0.1', () => console.log(`span sink on http://127.0.0.1:${port}/api/v2/spans`));
setInterval(report, 10_000).unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    report();
    process.exit(0);
  });
}
