import express, { type Request, type RequestHandler } from 'express';
import multer from 'multer';
import { AppError } from '@app/service-kit';
import { AVATAR_MAX_BYTES } from '../../../domain/avatar-image.ts';

export const JSON_LIMIT = '100kb';

export const jsonBody: RequestHandler = express.json({
  limit: JSON_LIMIT,
  strict: true,
  type: 'application/json',
});

const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: AVATAR_MAX_BYTES, files: 1, fields: 40, fieldSize: 100 * 1024, parts: 50 },
});

const parseForm: RequestHandler = upload.single('avatar');

/**
 * multer's own refusals (limits, unexpected files) are MulterErrors; everything else it passes on
 * comes from busboy reading the body ("Multipart: Boundary not found", "Unexpected end of form",
 * "Malformed part header"): the client sent a broken form, which DRF answers 400 "Multipart form
 * parse error", not a server error.
 */
const formBody: RequestHandler = (req, res, next) =>
  parseForm(req, res, (error?: unknown) => {
    if (!error || error instanceof multer.MulterError) return next(error);
    const reason = error instanceof Error ? error.message : String(error);
    next(
      new AppError('malformed-form', 'malformed multipart body', {
        status: 400,
        body: { detail: `Multipart form parse error - ${reason}` },
        cause: error,
      }),
    );
  });

function unsupported(type: string | undefined): AppError {
  return new AppError('unsupported-media-type', 'unsupported media type', {
    status: 415,
    body: { detail: `Unsupported media type "${type ?? ''}" in request.` },
  });
}

/** Whether the request carries a body; an empty one counts as none, as in DRF (whatever its type). */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

/**
 * Profile writes take JSON, or multipart/form-data when they carry an avatar file. A request
 * without a body reads as an empty object, as DRF's request.data does, and gets field errors.
 */
export const profileBody: RequestHandler = (req, res, next) => {
  if (!hasBody(req)) {
    req.body = {};
    return next();
  }
  if (req.is('application/json')) return jsonBody(req, res, next);
  if (req.is('multipart/form-data')) return formBody(req, res, next);
  throw unsupported(req.headers['content-type']);
};

/**
 * Auth endpoints take JSON. No body, or one without a content type, reads as an empty object (as
 * DRF's request.data), so validation answers 400 "This field is required." for each field.
 */
export const authBody: RequestHandler = (req, res, next) => {
  const contentType = req.headers['content-type'];
  if (hasBody(req) && contentType && !req.is('application/json')) throw unsupported(contentType);
  jsonBody(req, res, (error?: unknown) => {
    if (!error) req.body ??= {};
    next(error);
  });
};
