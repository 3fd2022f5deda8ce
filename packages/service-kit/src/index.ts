export { AppError, isAppError, type AppErrorOptions } from './app-error.ts';
export { ConfigError, loadConfig } from './config.ts';
export {
  createErrorFunnel,
  installProcessHandlers,
  toAppError,
  type ErrorFunnel,
  type ErrorOrigin,
} from './error-funnel.ts';
export { createLogger, type Logger } from './logger.ts';
export { Counter, Gauge, Histogram, Registry, createMetricsRegistry } from './metrics.ts';
export { Slots } from './slots.ts';
