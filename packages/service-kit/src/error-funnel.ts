import { AppError, isAppError } from './app-error.ts';
import type { Logger } from './logger.ts';

export type ErrorOrigin = 'http' | 'consumer' | 'process' | 'startup';

export interface ErrorFunnel {
  /** Logs once, in one shape; returns the AppError the caller should act on. */
  handle(error: unknown, origin: ErrorOrigin, context?: Record<string, unknown>): AppError;
}

export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('unexpected', message, { status: 500, cause: error });
}

/**
 * The single place errors from HTTP routes, consumers and the process end up. Expected client
 * errors (4xx) log at debug; everything else at error. Catastrophic errors end the process so
 * an orchestrator restarts it in a known state.
 */
export function createErrorFunnel(logger: Logger, onCatastrophe: (error: AppError) => void): ErrorFunnel {
  return {
    handle(error, origin, context = {}) {
      const appError = toAppError(error);
      const entry = { ...context, origin, errorCode: appError.code, err: appError.cause ?? appError };
      if (appError.status < 500) logger.debug(entry, appError.message);
      else logger.error(entry, appError.message);
      if (appError.catastrophic) onCatastrophe(appError);
      return appError;
    },
  };
}

/**
 * Routes process-level failures through the funnel and turns SIGTERM/SIGINT into an orderly
 * shutdown. Unhandled rejections and uncaught exceptions are catastrophic by definition.
 */
export function installProcessHandlers(
  funnel: ErrorFunnel,
  logger: Logger,
  shutdown: (reason: string) => Promise<void>,
): void {
  let stopping = false;
  const stop = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    shutdown(reason)
      .catch((error: unknown) => funnel.handle(error, 'process', { phase: 'shutdown' }))
      .finally(() => process.exit(exitCode));
  };
  process.on('uncaughtException', (error) => {
    funnel.handle(new AppError('uncaught-exception', error.message, { cause: error }), 'process');
    stop('uncaughtException', 1);
  });
  process.on('unhandledRejection', (reason) => {
    funnel.handle(new AppError('unhandled-rejection', String(reason), { cause: reason }), 'process');
    stop('unhandledRejection', 1);
  });
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
}
