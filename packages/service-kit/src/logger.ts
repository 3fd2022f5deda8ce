import { pino, type Logger, type LoggerOptions } from 'pino';
import { traceFields } from '@app/telemetry';

export type { Logger } from 'pino';

/** Secrets that must never reach a log line, wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'code',
  '*.code',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrftoken"]',
  'res.headers["set-cookie"]',
  'sessionId',
  '*.sessionId',
  'api_key',
  '*.api_key',
  'headers.Authorization',
];

/** Lines written inside a span carry its `trace_id` and `span_id` (see @app/telemetry). */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: traceFields,
    ...options,
  });
}
