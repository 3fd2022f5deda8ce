import type { ErrorRequestHandler, RequestHandler } from 'express';
import multer from 'multer';
import { AppError, isAppError, type ErrorFunnel } from '@app/service-kit';
import { fromDomainError } from '../error-mapping.ts';

interface HttpParserError {
  type?: string;
  status?: number;
  message?: string;
}

/** Our domain's errors, and errors raised outside our code (body parsers, multer), in the DRF shape. */
function fromFrameworkError(error: unknown): AppError | undefined {
  if (isAppError(error)) return fromDomainError(error) ?? error;
  if (error instanceof multer.MulterError) {
    const message =
      error.code === 'LIMIT_FILE_SIZE'
        ? 'The image may not exceed 2 MB.'
        : `Invalid upload: ${error.message}.`;
    const field =
      error.code === 'LIMIT_FILE_SIZE' || error.field === 'avatar' ? 'avatar' : 'non_field_errors';
    return new AppError('invalid-upload', message, { status: 400, body: { [field]: [message] } });
  }
  const parserError = error as HttpParserError;
  switch (parserError.type) {
    case 'entity.parse.failed':
      return new AppError('malformed-json', 'malformed JSON', {
        status: 400,
        body: { detail: `JSON parse error - ${parserError.message}` },
      });
    case 'entity.too.large':
      return new AppError('body-too-large', 'body too large', {
        status: 413,
        body: { detail: 'Request body is too large.' },
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported-encoding', 'unsupported encoding', {
        status: 415,
        body: { detail: parserError.message },
      });
    case 'request.aborted':
      return new AppError('request-aborted', 'client aborted', {
        status: 400,
        body: { detail: 'Request aborted.' },
      });
    default:
      if (parserError.status && parserError.status >= 400 && parserError.status < 500) {
        return new AppError('bad-request', parserError.message ?? 'bad request', {
          status: parserError.status,
          body: { detail: parserError.message ?? 'Bad request.' },
        });
      }
      return undefined;
  }
}

export function httpErrorHandler(funnel: ErrorFunnel): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = funnel.handle(fromFrameworkError(error) ?? error, 'http', {
      method: req.method,
      path: req.path,
      requestId: req.id,
    });
    if (res.headersSent) return res.end();
    res.set(appError.headers);
    const body =
      appError.status >= 500 && !appError.body ? { detail: 'A server error occurred.' } : appError.body;
    res.status(appError.status).json(body ?? { detail: appError.message });
  };
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ detail: 'Not found.' });
};
