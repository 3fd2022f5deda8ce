import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, Registry } from '@app/service-kit';

export interface HealthServerDeps {
  logger: Logger;
  registry: Registry;
  /** Readiness of each dependency, for /readyz. */
  checkReady: () => Promise<Record<string, boolean>>;
}

export interface HealthServer {
  server: Server;
  port: number;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** /healthz (the process answers), /readyz (consumer joined, Mongo and Redis up) and /metrics. */
export function createHealthHandler({ logger, registry, checkReady }: HealthServerDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { detail: 'Method not allowed.' });
      } else if (path === '/healthz') {
        sendJson(res, 200, { status: 'ok' });
      } else if (path === '/readyz') {
        const checks = await checkReady();
        const ready = Object.values(checks).every(Boolean);
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
      } else if (path === '/metrics') {
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      } else {
        sendJson(res, 404, { detail: 'Not found.' });
      }
    } catch (error) {
      logger.error({ err: error, path }, 'health endpoint failed');
      if (!res.headersSent) sendJson(res, 500, { detail: 'Internal error.' });
      else res.end();
    }
  };
}

export async function startHealthServer(
  deps: HealthServerDeps,
  port: number,
  host: string,
): Promise<HealthServer> {
  const handler = createHealthHandler(deps);
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export async function stopHealthServer({ server }: HealthServer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
