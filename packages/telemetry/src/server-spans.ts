// The SERVER span of each incoming HTTP request, in place of instrumentation-http's incoming side and
// the express instrumentation: those compute attributes, wrap the request, the response and every
// express layer for every request, sampled or not, and the unsampled 90% paid for it all.
import http from 'node:http';
import https from 'node:https';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import { contextFor } from './context.ts';

/** What express leaves on a request once a route matched it (express 4 and 5). */
interface RoutedRequest extends http.IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
}

function pathOf(url: string | undefined): string {
  const end = url?.indexOf('?') ?? -1;
  return end === -1 ? (url ?? '') : url!.slice(0, end);
}

/** Attributes (HTTP semantic conventions) and a name for a sampled span only: none of it is cheap. */
function describeRequest(span: Span, request: http.IncomingMessage, scheme: string): void {
  span.setAttributes({
    [ATTR_HTTP_REQUEST_METHOD]: request.method ?? 'GET',
    [ATTR_URL_SCHEME]: scheme,
    [ATTR_URL_PATH]: pathOf(request.url),
    [ATTR_SERVER_ADDRESS]: request.headers.host?.replace(/:\d+$/, ''),
    [ATTR_CLIENT_ADDRESS]: request.socket.remoteAddress,
    [ATTR_NETWORK_PROTOCOL_VERSION]: request.httpVersion,
    [ATTR_USER_AGENT_ORIGINAL]: request.headers['user-agent'],
  });
}

/** On close: the status, and the route express matched (`GET /users/profile/`), never the raw URL. */
function endServerSpan(span: Span, request: RoutedRequest, response: http.ServerResponse): void {
  const method = request.method ?? 'GET';
  const pattern = request.route?.path;
  if (typeof pattern === 'string') {
    const route = `${request.baseUrl ?? ''}${pattern}`;
    span.setAttribute(ATTR_HTTP_ROUTE, route);
    span.updateName(`${method} ${route}`);
  }
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
  if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  else if (!response.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' });
  span.end();
}

/**
 * Wraps `emit('request')` of node's HTTP(S) servers. Per request: `ignore(path)` → no tracing at
 * all. Else a SERVER span, continuing the caller's `traceparent` if there is one, which the
 * configured sampler (OTEL_TRACES_SAMPLER) decides on. Sampled, the request runs with the span
 * active and it gets its attributes. Unsampled, the request runs with no active span and only the
 * span context kept for propagation (contextFor), which is the whole cost. Returns the undo.
 */
export function traceIncomingRequests(tracer: Tracer, ignore: (path: string) => boolean): () => void {
  const undo: (() => void)[] = [];
  for (const [server, scheme] of [
    [http.Server, 'http'],
    [https.Server, 'https'],
  ] as const) {
    const patched = server.prototype.emit;
    undo.push(() => (server.prototype.emit = patched));
    const original = server.prototype.emit as (this: unknown, ...args: unknown[]) => boolean;
    // Every event of every server passes here: others go straight through (`arguments`, no rest
    // array), and a request's call has fixed arguments.
    server.prototype.emit = function emit(this: http.Server, event: string | symbol) {
      // eslint-disable-next-line prefer-rest-params
      if (event !== 'request') return original.apply(this, arguments as unknown as unknown[]);
      // eslint-disable-next-line prefer-rest-params
      const request = arguments[1] as RoutedRequest;
      // eslint-disable-next-line prefer-rest-params
      const response = arguments[2] as http.ServerResponse;
      const run = (ctx: Context) => context.with(ctx, () => original.call(this, event, request, response));
      if (ignore(pathOf(request.url))) return run(suppressTracing(ROOT_CONTEXT));
      const headers = request.headers;
      const parent =
        headers.traceparent !== undefined || headers.baggage !== undefined
          ? propagation.extract(ROOT_CONTEXT, headers)
          : ROOT_CONTEXT;
      const span = tracer.startSpan(request.method ?? 'GET', { kind: SpanKind.SERVER }, parent);
      if (span.isRecording()) {
        describeRequest(span, request, scheme);
        response.once('close', () => endServerSpan(span, request, response));
      }
      return run(contextFor(parent, span));
    } as typeof server.prototype.emit;
  }
  return () => undo.forEach((restore) => restore());
}
