import express, { type RequestHandler } from 'express';
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

const formBody: RequestHandler = upload.single('avatar');

function unsupported(type: string | undefined): AppError {
  return new AppError('unsupported-media-type', 'unsupported media type', {
    status: 415,
    body: { detail: `Unsupported media type "${type ?? ''}" in request.` },
  });
}

/** Profile writes take JSON, or multipart/form-data when they carry an avatar file. */
export const profileBody: RequestHandler = (req, res, next) => {
  if (req.is('application/json')) return jsonBody(req, res, next);
  if (req.is('multipart/form-data')) return formBody(req, res, next);
  throw unsupported(req.headers['content-type']);
};

/** Auth endpoints take JSON (or an empty body). */
export const authBody: RequestHandler = (req, res, next) => {
  if (!req.headers['content-type'] || req.is('application/json')) return jsonBody(req, res, next);
  throw unsupported(req.headers['content-type']);
};
