/**
 * Where an update's time goes, from its trace: reads the with-loyalty PATCH traces Zipkin holds for
 * a recent window (a bench:pipeline end-to-end run with BENCH_TRACE_ENV sampling all of them) and
 * prints percentiles per stage, request → provider call. Span clocks are this machine's, in µs.
 *
 *   node --conditions=source bench/pipeline/trace-stages.ts <zipkin url> [lookback minutes (15)]
 */
import { distribution } from './stats.ts';

interface ZipkinSpan {
  id: string;
  kind?: string;
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

const SERVER_SPAN = 'patch /users/profile-with-loyalty/';

const end = (span: ZipkinSpan) => (span.timestamp ?? 0) + (span.duration ?? 0);
const service = (span: ZipkinSpan) => span.localEndpoint?.serviceName;
const tag = (span: ZipkinSpan, ...names: string[]) => names.map((name) => span.tags?.[name]).find(Boolean);

/** The stage boundaries of one update's trace (µs), or undefined when a stage is missing. */
function stagesOf(spans: ZipkinSpan[]): Record<string, number> | undefined {
  const byTime = [...spans].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
  const server = byTime.find((span) => span.kind === 'SERVER' && service(span) === 'profile-api');
  const commit = byTime.find(
    (span) =>
      service(span) === 'profile-api' &&
      tag(span, 'db.system.name', 'db.system') === 'mongodb' &&
      /update|findandmodify/i.test(`${tag(span, 'db.operation.name', 'db.operation') ?? ''} ${span.name}`),
  );
  const produce = byTime.find((span) => span.kind === 'PRODUCER' && service(span) === 'profile-api');
  const consume = byTime.find((span) => span.kind === 'CONSUMER' && service(span) === 'loyalty-sync');
  const call = byTime.find(
    (span) =>
      span.kind === 'CLIENT' &&
      service(span) === 'loyalty-sync' &&
      tag(span, 'http.request.method', 'http.method') === 'PUT',
  );
  if (!server || !commit || !produce || !consume || !call) return undefined;
  return {
    'request → commit written': end(commit) - server.timestamp!,
    'commit → PATCH answered': end(server) - end(commit),
    'relay: commit → produce starts': produce.timestamp! - end(commit),
    'produce: send → acknowledged': produce.duration ?? 0,
    'acknowledged → consumer span (fetch + worker queue)': consume.timestamp! - end(produce),
    'consumer span → provider call': call.timestamp! - consume.timestamp!,
    'provider call': call.duration ?? 0,
    'total: request → provider answered': end(call) - server.timestamp!,
  };
}

async function main(zipkinUrl: string, lookbackMinutes: number): Promise<void> {
  const query = new URLSearchParams({
    serviceName: 'profile-api',
    spanName: SERVER_SPAN,
    endTs: String(Date.now()),
    lookback: String(lookbackMinutes * 60_000),
    limit: '100000',
  });
  const response = await fetch(`${zipkinUrl}/api/v2/traces?${query}`);
  if (!response.ok) throw new Error(`Zipkin answered ${response.status}`);
  const traces = (await response.json()) as ZipkinSpan[][];
  const samples = new Map<string, number[]>();
  let complete = 0;
  for (const spans of traces) {
    const stages = stagesOf(spans);
    if (!stages) continue;
    complete += 1;
    for (const [stage, us] of Object.entries(stages))
      samples.set(stage, [...(samples.get(stage) ?? []), us / 1000]);
  }
  console.log(`${traces.length} traces of ${SERVER_SPAN}, ${complete} complete (request to provider call)\n`);
  const width = Math.max(...[...samples.keys()].map((stage) => stage.length));
  console.log(
    `${'stage'.padEnd(width)}  ${['p50 ms', 'p90 ms', 'p99 ms', 'max ms'].map((h) => h.padStart(8)).join('')}`,
  );
  for (const [stage, values] of samples) {
    const d = distribution(values)!;
    console.log(
      `${stage.padEnd(width)}  ${[d.p50, d.p90, d.p99, d.max].map((v) => v.toFixed(1).padStart(8)).join('')}`,
    );
  }
}

const [zipkinUrl, lookback] = process.argv.slice(2);
if (!zipkinUrl) {
  console.error(
    'usage: node --conditions=source bench/pipeline/trace-stages.ts <zipkin url> [lookback minutes]',
  );
  process.exit(2);
}
await main(zipkinUrl, Number(lookback ?? 15));
