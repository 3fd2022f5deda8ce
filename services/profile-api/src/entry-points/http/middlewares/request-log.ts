import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '@app/service-kit';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's id, as its log line and error reports name it. */
    id?: string;
  }
}

export interface RequestLogOptions {
  /** The request's id; a per-process counter unless given. */
  genReqId?: (req: IncomingMessage, res: ServerResponse) => string;
  /** Paths answered without a log line (probes and scrapes arrive every few seconds). */
  quietPaths?: ReadonlySet<string>;
}

/**
 * One log line per request when it finishes: `info`, or `error` for a 5xx. The line is only built
 * when its level is enabled, so a service logging at `warn` pays for a listener and a clock read
 * per request, not for a child logger and its serialized bindings (as pino-http built for every
 * request whatever the level).
 */
export function requestLog(logger: Logger, { genReqId, quietPaths }: RequestLogOptions = {}): RequestHandler {
  let counter = 0;
  return (req, res, next) => {
    req.id = genReqId ? genReqId(req, res) : String((counter += 1));
    if (quietPaths?.has(req.url)) return next();
    const started = performance.now();
    res.once('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id: req.id, method: req.method, url: req.originalUrl },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        'request completed',
      );
    });
    next();
  };
}
