import type { Request, Response } from 'express';
import type { Session } from '../../domain/ports.ts';
import { notAuthenticated } from '../../domain/errors.ts';

export interface Authenticated {
  /** The session id: the sessionid cookie's value, which is also the login answer's token `key`. */
  sessionId: string;
  session: Session;
  /** How the request named its session: the cookie (CSRF-checked) or `Authorization: Token`. */
  scheme: 'cookie' | 'token';
}

/** The session the authenticate middleware found; routes behind it can rely on it. */
export function authOf(res: Response): Authenticated {
  const auth = res.locals.auth as Authenticated | undefined;
  if (!auth) throw notAuthenticated();
  return auth;
}

export function baseUrlOf(req: Request): string {
  return `${req.protocol}://${req.get('host')}`;
}

export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
