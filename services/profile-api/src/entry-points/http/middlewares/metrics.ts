import type { RequestHandler } from 'express';
import { Histogram, type Registry } from '@app/service-kit';

/**
 * Requests answered before any route matched (404s, and 401s from router-level authentication) share
 * one label value, so scanners cannot grow the series count.
 */
const UNMATCHED = '(unmatched)';

/**
 * Latency of every request by method, route pattern and status. The route is read once the
 * response is finished: only then has express matched it (`/admin/settings/:key`, never the raw URL).
 */
export function httpMetrics(registry: Registry): RequestHandler {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (req, res, next) => {
    const end = duration.startTimer();
    res.once('finish', () => {
      const pattern = req.route?.path as unknown;
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : UNMATCHED;
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/** Prometheus text exposition of the process's registry. */
export function metricsEndpoint(registry: Registry): RequestHandler {
  return async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  };
}
