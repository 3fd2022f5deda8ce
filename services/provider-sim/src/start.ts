import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createErrorFunnel, createLogger, installProcessHandlers, type Logger } from '@app/service-kit';
import { flushTelemetry, shutdownTelemetry } from '@app/telemetry';
import { loadProviderSimConfig, type ProviderSimConfig } from './config.ts';
import { createSimulator } from './domain/simulator.ts';
import { createHttpApp } from './entry-points/http/app.ts';

// What its HTTP API answers (GET /customers/:id, GET /stats), for clients in tests and benchmarks.
export type { CustomerView, HistoryEntry } from './domain/loyalty-ledger.ts';
export type { SimulatorStats } from './domain/simulator.ts';

const SERVICE = 'provider-sim';
/** In-flight requests (e.g. waiting out simulated latency) get this long before sockets are cut. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface ProviderSimOptions {
  /** Overrides PORT; 0 picks a free port. */
  port?: number;
  /** Overrides HOST. */
  host?: string;
  /** Overrides LOYALTY_API_KEY. */
  loyaltyApiKey?: string;
  /** Overrides LOG_LEVEL (tests pass 'silent'). */
  logLevel?: string;
  /** Use this logger instead of creating one. */
  logger?: Logger;
}

export interface RunningProviderSim {
  /** Base URL clients should call, e.g. http://127.0.0.1:8090. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const running = new Set<RunningProviderSim>();

function urlFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closer(server: Server): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      force.unref();
      server.close((error) => {
        clearTimeout(force);
        if (error) reject(error);
        else resolve();
      });
      server.closeIdleConnections();
    }));
}

async function launch(config: ProviderSimConfig, logger: Logger): Promise<RunningProviderSim> {
  // HTTP errors are never catastrophic here; a main process exits through installProcessHandlers.
  const funnel = createErrorFunnel(logger, () => undefined);
  const sim = createSimulator();
  const app = createHttpApp({ sim, logger, funnel, loyaltyApiKey: config.loyaltyApiKey });
  const server = createServer(app);
  const address = await listen(server, config.port, config.host);
  const close = closer(server);
  const handle: RunningProviderSim = {
    url: urlFor(config.host, address.port),
    port: address.port,
    close: async () => {
      running.delete(handle);
      await close();
      logger.info({ port: address.port }, 'provider-sim stopped');
      await flushTelemetry();
    },
  };
  running.add(handle);
  logger.info(
    {
      url: handle.url,
      host: config.host,
      port: address.port,
      loyaltyApiKey: config.loyaltyApiKey ? 'set' : 'any',
    },
    'provider-sim listening',
  );
  return handle;
}

/** Starts one simulator with fresh in-memory state. Options override the environment (PORT, HOST, ...). */
export async function startProviderSim(options: ProviderSimOptions = {}): Promise<RunningProviderSim> {
  const fromEnv = loadProviderSimConfig();
  const config: ProviderSimConfig = {
    port: options.port ?? fromEnv.port,
    host: options.host ?? fromEnv.host,
    logLevel: options.logLevel ?? fromEnv.logLevel,
    loyaltyApiKey: options.loyaltyApiKey ?? fromEnv.loyaltyApiKey,
  };
  const logger = options.logger ?? createLogger(SERVICE, { level: config.logLevel });
  return launch(config, logger);
}

/** Closes every simulator this process started. */
export async function stopProviderSim(): Promise<void> {
  await Promise.all([...running].map((sim) => sim.close()));
}

async function main(): Promise<void> {
  const bootLogger = createLogger(SERVICE);
  const funnel = createErrorFunnel(bootLogger, () => undefined);
  try {
    const config = loadProviderSimConfig();
    const logger = createLogger(SERVICE, { level: config.logLevel });
    installProcessHandlers(
      createErrorFunnel(logger, () => undefined),
      logger,
      () => stopProviderSim().finally(shutdownTelemetry),
    );
    await launch(config, logger);
  } catch (error) {
    funnel.handle(error, 'startup');
    process.exit(1);
  }
}

// Not import.meta (jest compiles to CommonJS): the process was started on this file.
if (/[\\/]start\.[jt]s$/.test(process.argv[1] ?? '')) void main();
