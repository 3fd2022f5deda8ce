import { timingSafeEqual } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '@app/service-kit';
import type { AuthUseCase } from '../../../domain/auth-use-case.ts';
import { notAuthenticated } from '../../../domain/errors.ts';
import type { Authenticated } from '../context.ts';

export const SESSION_COOKIE = 'sessionid';
export const CSRF_COOKIE = 'csrftoken';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function sessionIdOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  return header ? parseCookies(header)[SESSION_COOKIE] || undefined : undefined;
}

/** Loads the session named by the cookie into res.locals.auth; `required` answers 401 without one. */
export function loadSession(auth: AuthUseCase, { required }: { required: boolean }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const sessionId = sessionIdOf(req);
    const session = sessionId ? await auth.findSession(sessionId) : null;
    if (sessionId && session) res.locals.auth = { sessionId, session } satisfies Authenticated;
    else if (required) throw notAuthenticated();
    next();
  };
}

function csrfFailed(reason: string): AppError {
  return new AppError('csrf-failed', reason, { status: 403, body: { detail: `CSRF Failed: ${reason}` } });
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Unsafe methods of an authenticated session must echo the session's CSRF token in X-CSRFToken. */
export const enforceCsrf: RequestHandler = (req, res, next) => {
  const auth = res.locals.auth as Authenticated | undefined;
  if (!auth || SAFE_METHODS.has(req.method)) return next();
  const given = req.get('x-csrftoken');
  if (!given) throw csrfFailed('CSRF token missing.');
  if (!sameToken(given, auth.session.csrfToken)) throw csrfFailed('CSRF token incorrect.');
  next();
};
