export interface AppErrorOptions {
  /** HTTP status to answer with when the error reaches the HTTP funnel. */
  status?: number;
  /** Structured body fields (DRF shape: field → messages, or detail). */
  body?: Record<string, unknown>;
  /** A catastrophic error leaves the process in an unknown state: the funnel exits so it restarts. */
  catastrophic?: boolean;
  cause?: unknown;
  headers?: Record<string, string>;
}

/** The one error type the services raise on purpose; anything else is unexpected. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
  readonly catastrophic: boolean;
  readonly headers: Record<string, string>;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 500;
    this.body = options.body;
    this.catastrophic = options.catastrophic ?? false;
    this.headers = options.headers ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
