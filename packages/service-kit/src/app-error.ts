export interface AppErrorOptions {
  /**
   * What a caller can act on, in the raiser's own terms: field → messages, seconds to wait, …
   * A domain describes its errors with a code and details only; the entry point that answers
   * (HTTP, a consumer) maps the code to its own protocol.
   */
  details?: Record<string, unknown>;
  /**
   * HTTP status to answer with. Set by HTTP entry points (or by their mapping of a domain code),
   * never by a domain; an error nobody mapped answers 500.
   */
  status?: number;
  /** HTTP only, like `status`: the structured body (DRF shape: field → messages, or detail). */
  body?: Record<string, unknown>;
  /** A catastrophic error leaves the process in an unknown state: the funnel exits so it restarts. */
  catastrophic?: boolean;
  cause?: unknown;
  /** HTTP only, like `status`. */
  headers?: Record<string, string>;
}

/** The one error type the services raise on purpose; anything else is unexpected. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
  readonly catastrophic: boolean;
  readonly headers: Record<string, string>;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.status = options.status ?? 500;
    this.body = options.body;
    this.catastrophic = options.catastrophic ?? false;
    this.headers = options.headers ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
