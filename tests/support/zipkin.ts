import { randomBytes } from 'node:crypto';

/** A span as Zipkin's v2 API returns it (timestamps and durations in microseconds). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/**
 * A W3C traceparent of a sampled trace the test starts itself: sent with a request, the services
 * continue it, so the test knows which trace to read back without searching for it.
 */
export function newTraceparent(): { traceId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

/** The spans Zipkin holds for a trace so far; [] while it has none. */
export async function readTrace(zipkinUrl: string, traceId: string): Promise<ZipkinSpan[]> {
  const response = await fetch(`${zipkinUrl}/api/v2/trace/${traceId}`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`Zipkin answered ${response.status} for trace ${traceId}`);
  return (await response.json()) as ZipkinSpan[];
}

export function serviceOf(span: ZipkinSpan): string {
  return span.localEndpoint?.serviceName ?? '?';
}

function tag(span: ZipkinSpan, ...names: string[]): string | undefined {
  for (const name of names) if (span.tags?.[name] !== undefined) return span.tags[name];
  return undefined;
}

/** What a causal trace of one profile update must hold; `undefined` for a stage not (yet) there. */
export interface UpdateTrace {
  /** profile-api's HTTP server span of the request. */
  server: ZipkinSpan | undefined;
  /** profile-api's MongoDB write that committed the change (an update of the users collection). */
  dbWrite: ZipkinSpan | undefined;
  /** profile-api's Kafka produce of the event. */
  produce: ZipkinSpan | undefined;
  /** loyalty-sync's consumer spans of the record (one per attempt). */
  consumes: ZipkinSpan[];
  /** loyalty-sync's PUT /customers/{id} calls to the loyalty card service (one per attempt). */
  providerCalls: ZipkinSpan[];
}

/** Picks the stages of a profile update out of its trace's spans. */
export function updateStages(
  spans: ZipkinSpan[],
  { path, topic, userId }: { path: string; topic: string; userId: number },
): UpdateTrace {
  const of = (service: string) => spans.filter((span) => serviceOf(span) === service);
  const api = of('profile-api');
  const worker = of('loyalty-sync');
  const server = api.find(
    (span) =>
      span.kind === 'SERVER' && (tag(span, 'http.route') === path || (span.name ?? '').includes(path)),
  );
  // The commit is the first write; the relay's removal of the published event comes later.
  const dbWrite = byTime(api).find((span) => {
    const system = tag(span, 'db.system.name', 'db.system');
    const operation = `${tag(span, 'db.operation.name', 'db.operation') ?? ''} ${span.name ?? ''}`;
    return system === 'mongodb' && /update|findandmodify/i.test(operation);
  });
  const produce = byTime(api).find(
    (span) => span.kind === 'PRODUCER' && tag(span, 'messaging.destination.name') === topic,
  );
  const consumes = worker.filter(
    (span) => span.kind === 'CONSUMER' && tag(span, 'messaging.destination.name') === topic,
  );
  const providerCalls = worker.filter(
    (span) =>
      span.kind === 'CLIENT' &&
      tag(span, 'http.request.method', 'http.method') === 'PUT' &&
      (tag(span, 'url.full', 'http.url') ?? '').includes(`/customers/${userId}`),
  );
  return { server, dbWrite, produce, consumes, providerCalls };
}

function byTime(spans: ZipkinSpan[]): ZipkinSpan[] {
  return [...spans].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
}

/** Whether `ancestor` is `span`'s parent, grandparent... in the trace. */
export function isAncestor(spans: ZipkinSpan[], ancestor: ZipkinSpan, span: ZipkinSpan): boolean {
  const byId = new Map(spans.map((each) => [each.id, each]));
  const seen = new Set<string>();
  let current = span.parentId ? byId.get(span.parentId) : undefined;
  while (current && !seen.has(current.id)) {
    if (current.id === ancestor.id) return true;
    seen.add(current.id);
    current = current.parentId ? byId.get(current.parentId) : undefined;
  }
  return false;
}

/** One line per span, indented under its parent: for a failure message. */
export function describeTrace(spans: ZipkinSpan[]): string {
  const children = new Map<string | undefined, ZipkinSpan[]>();
  const ids = new Set(spans.map((span) => span.id));
  for (const span of [...spans].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0))) {
    const parent = span.parentId && ids.has(span.parentId) ? span.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      lines.push(`${'  '.repeat(depth)}${serviceOf(span)} ${span.kind ?? 'INTERNAL'} ${span.name ?? '-'}`);
      walk(span.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n') || '(no spans)';
}
