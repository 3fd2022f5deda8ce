import { AppError, isAppError, toAppError, type ErrorFunnel } from '@app/service-kit';
import type { ErrorRequestHandler, RequestHandler } from 'express';

interface HttpErrorLike {
  status: number;
  expose?: boolean;
  type?: string;
  message: string;
}

/** body-parser and express raise http-errors objects (status + expose) for bad client input. */
function isClientHttpError(error: unknown): error is HttpErrorLike {
  if (typeof error !== 'object' || error === null) return false;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

const CLIENT_DETAILS: Record<string, string> = {
  'entity.parse.failed': 'Malformed JSON body.',
  'entity.too.large': 'Request body is too large.',
  'encoding.unsupported': 'Unsupported request body encoding.',
  'charset.unsupported': 'Unsupported request body charset.',
  'request.aborted': 'Request aborted by the client.',
};

export function toHttpError(error: unknown): AppError {
  if (isAppError(error)) return error;
  if (error instanceof URIError) {
    const detail = 'Malformed percent-encoding in the URL.';
    return new AppError('bad-url', detail, { status: 400, body: { detail }, cause: error });
  }
  if (isClientHttpError(error)) {
    const detail =
      (error.type && CLIENT_DETAILS[error.type]) ?? (error.expose ? error.message : 'Bad request.');
    return new AppError(error.type ?? 'bad-request', detail, {
      status: error.status,
      body: { detail },
      cause: error,
    });
  }
  return toAppError(error);
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ detail: 'Not found.' });
};

/** Every error of every route ends here: logged once through the funnel, answered as JSON. */
export function errorHandler(funnel: ErrorFunnel): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = funnel.handle(toHttpError(error), 'http', { method: req.method, path: req.path });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body =
      appError.status >= 500
        ? { detail: 'Internal server error.' }
        : (appError.body ?? { detail: appError.message });
    res.status(appError.status).set(appError.headers).json(body);
  };
}
