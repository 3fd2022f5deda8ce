import type { ErrorFunnel, Logger } from '@app/service-kit';
import express, { type Express, type RequestHandler } from 'express';
import type { ProviderSimulator } from '../../domain/simulator.ts';
import { controlRoutes } from './control-routes.ts';
import { errorHandler, notFound } from './errors.ts';
import { loyaltyRoutes } from './loyalty-routes.ts';
import { smsRoutes } from './sms-routes.ts';

export interface HttpAppDeps {
  sim: ProviderSimulator;
  logger: Logger;
  funnel: ErrorFunnel;
  /** When set, PUT /customers/:id accepts only `Authorization: Bearer <loyaltyApiKey>`. */
  loyaltyApiKey: string | undefined;
}

/** Per-request lines at debug only: the benchmark pushes thousands of requests a second through here. */
function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    next();
  };
}

export function createHttpApp({ sim, logger, funnel, loyaltyApiKey }: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // node:querystring: a literal `+` arrives as a space (sms listing restores it).
  app.set('query parser', 'simple');
  if (logger.isLevelEnabled('debug')) app.use(requestLog(logger));

  // strict: false lets `42` or `"x"` through the parser so validation answers "must be a JSON object".
  const jsonBody = express.json({ strict: false });

  app.use(controlRoutes(sim, jsonBody));
  app.use(smsRoutes(sim, jsonBody));
  app.use(loyaltyRoutes(sim, jsonBody, { apiKey: loyaltyApiKey }));
  app.use(notFound);
  app.use(errorHandler(funnel));
  return app;
}
