import { timingSafeEqual } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '@app/service-kit';
import type { AuthUseCase } from '../../../domain/auth-use-case.ts';
import { notAuthenticated } from '../../../domain/errors.ts';
import type { Authenticated } from '../context.ts';

export const SESSION_COOKIE = 'sessionid';
export const CSRF_COOKIE = 'csrftoken';
/** `Authorization: Token <key>`, as Django REST framework's TokenAuthentication reads it. */
export const TOKEN_KEYWORD = 'Token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function sessionIdOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  return header ? parseCookies(header)[SESSION_COOKIE] || undefined : undefined;
}

/** A 401 that names the scheme a client can use, as RFC 9110 asks and DRF does. */
function tokenFailed(detail: string): AppError {
  return new AppError('invalid-token', detail, {
    status: 401,
    body: { detail },
    headers: { 'WWW-Authenticate': TOKEN_KEYWORD },
  });
}

/**
 * The key of an `Authorization: Token <key>` header, or undefined when the request does not use
 * that scheme (no header, or another scheme such as Bearer). A malformed Token header is refused
 * with DRF's wording rather than silently falling back to the cookie.
 */
export function tokenOf(req: Request): string | undefined {
  const parts = (req.get('authorization') ?? '').split(/\s+/).filter(Boolean);
  if (parts[0]?.toLowerCase() !== TOKEN_KEYWORD.toLowerCase()) return undefined;
  if (parts.length === 1) throw tokenFailed('Invalid token header. No credentials provided.');
  if (parts.length > 2) throw tokenFailed('Invalid token header. Token string should not contain spaces.');
  return parts[1];
}

/**
 * Loads the caller's session into res.locals.auth: from `Authorization: Token <key>` when the
 * request carries one (the login answer's `key`), else from the session cookie; `required` answers
 * 401 without either. A wrong or revoked key is a 401 even where no login is required, as in DRF.
 */
export function loadSession(auth: AuthUseCase, { required }: { required: boolean }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = tokenOf(req);
    if (token !== undefined) {
      const session = await auth.findSession(token);
      if (!session) throw tokenFailed('Invalid token.');
      res.locals.auth = { sessionId: token, session, scheme: 'token' } satisfies Authenticated;
      return next();
    }
    const sessionId = sessionIdOf(req);
    const session = sessionId ? await auth.findSession(sessionId) : null;
    if (sessionId && session)
      res.locals.auth = { sessionId, session, scheme: 'cookie' } satisfies Authenticated;
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

/**
 * Unsafe methods of a cookie session must echo the session's CSRF token in X-CSRFToken. A browser
 * attaches cookies on its own, never an Authorization header: token-authenticated requests cannot
 * be forged cross-site and need no CSRF token (DRF enforces CSRF only for SessionAuthentication).
 */
export const enforceCsrf: RequestHandler = (req, res, next) => {
  const auth = res.locals.auth as Authenticated | undefined;
  if (!auth || auth.scheme === 'token' || SAFE_METHODS.has(req.method)) return next();
  const given = req.get('x-csrftoken');
  if (!given) throw csrfFailed('CSRF token missing.');
  if (!sameToken(given, auth.session.csrfToken)) throw csrfFailed('CSRF token incorrect.');
  next();
};
