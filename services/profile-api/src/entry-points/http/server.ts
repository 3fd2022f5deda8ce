import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { ErrorFunnel, Logger, Registry } from '@app/service-kit';
import type { SettingsStore } from '@app/settings';
import type { AuthUseCase } from '../../domain/auth-use-case.ts';
import type { Avatars } from '../../domain/ports.ts';
import type { PhoneVerificationUseCase } from '../../domain/phone-verification-use-case.ts';
import type { ProfileRules } from '../../domain/profile-schema.ts';
import type { ProfileUseCase } from '../../domain/profile-use-case.ts';
import type { Throttler } from '../../domain/throttler.ts';
import { admission, type AdmissionOptions } from './middlewares/admission.ts';
import { httpErrorHandler, notFound } from './middlewares/error-handler.ts';
import { httpMetrics, metricsEndpoint } from './middlewares/metrics.ts';
import { authRoutes } from './routes/auth-routes.ts';
import { docsRoutes } from './routes/docs-routes.ts';
import { mediaRoutes } from './routes/media-routes.ts';
import { requestLog, type RequestLogOptions } from './middlewares/request-log.ts';
import { profileRoutes } from './routes/profile-routes.ts';
import { settingsRoutes } from './routes/settings-routes.ts';

export interface HttpDeps {
  logger: Logger;
  funnel: ErrorFunnel;
  auth: AuthUseCase;
  profiles: ProfileUseCase;
  phoneVerification: PhoneVerificationUseCase;
  rules: ProfileRules;
  throttler: Throttler;
  settings: SettingsStore;
  avatars: Avatars;
  adminToken: string;
  sessionTtlSeconds: number;
  secureCookies: boolean;
  /** Express's `trust proxy` (see ProfileApiConfig.trustProxy). */
  trustProxy: boolean | number | string[];
  admission: AdmissionOptions;
  /** Readiness of the backing services, for /readyz. */
  checkReady: () => Promise<Record<string, boolean>>;
  /** The process's metrics: HTTP latency is recorded into it, /metrics serves it. */
  metrics: Registry;
  /**
   * /admin/* and /metrics are served by createManagementApp on a port of their own (MANAGEMENT_PORT)
   * and answer 404 here, so the public port never exposes them.
   */
  separateManagement?: boolean;
}

const REQUEST_ID = /^[\w.-]{1,64}$/;
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** One log line per request (probes and scrapes excepted), the same on both ports. */
function requestLogging(logger: Logger, options: Pick<RequestLogOptions, 'genReqId'> = {}) {
  return requestLog(logger, { quietPaths: PROBE_PATHS, ...options });
}

export function createApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(httpMetrics(deps.metrics));
  app.use(helmet());
  app.use(
    requestLogging(deps.logger, {
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.checkReady();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  if (!deps.separateManagement) app.get('/metrics', metricsEndpoint(deps.metrics));
  app.use(admission(deps.admission));
  app.use(docsRoutes());
  app.use(authRoutes(deps));
  app.use(profileRoutes(deps));
  if (!deps.separateManagement) app.use(settingsRoutes(deps));
  app.use(mediaRoutes(deps));
  app.use(notFound);
  app.use(httpErrorHandler(deps.funnel));
  return app;
}

export type ManagementDeps = Pick<HttpDeps, 'logger' | 'funnel' | 'settings' | 'adminToken' | 'metrics'>;

/**
 * The management port: the settings API, /metrics and a liveness answer, for operators and the
 * scraper only (publish it on a private interface). Everything else is 404 here.
 */
export function createManagementApp(deps: ManagementDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(requestLogging(deps.logger.child({ port: 'management' })));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', metricsEndpoint(deps.metrics));
  app.use(settingsRoutes(deps));
  app.use(notFound);
  app.use(httpErrorHandler(deps.funnel));
  return app;
}

export interface WebServer {
  server: Server;
  port: number;
}

export async function startWebServer(app: Express, port: number, host: string): Promise<WebServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) return reject(error);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
    // Longer than a load balancer's idle timeout, so it never reuses a socket we just closed.
    server.keepAliveTimeout = 65_000;
  });
}

export async function stopWebServer({ server }: WebServer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
