import { Router, type CookieOptions, type Response } from 'express';
import type { AuthUseCase } from '../../../domain/auth-use-case.ts';
import { newToken } from '../../../domain/auth-use-case.ts';
import { toProfileResponse } from '../../../domain/profile-representation.ts';
import type { Throttler } from '../../../domain/throttler.ts';
import { baseUrlOf, clientAddress, type Authenticated } from '../context.ts';
import { authBody } from '../middlewares/body.ts';
import {
  CSRF_COOKIE,
  SESSION_COOKIE,
  enforceCsrf,
  loadSession,
  sessionIdOf,
} from '../middlewares/session.ts';
import { throttle } from '../middlewares/throttle.ts';

export interface AuthRoutesDeps {
  auth: AuthUseCase;
  throttler: Throttler;
  sessionTtlSeconds: number;
  secureCookies: boolean;
}

export function authRoutes({ auth, throttler, sessionTtlSeconds, secureCookies }: AuthRoutesDeps): Router {
  const router = Router();
  const cookieBase: CookieOptions = { path: '/', sameSite: 'lax', secure: secureCookies };
  const setCsrfCookie = (res: Response, token: string) =>
    res.cookie(CSRF_COOKIE, token, { ...cookieBase, httpOnly: false, maxAge: sessionTtlSeconds * 1000 });
  const byAddress = throttle.bind(null, throttler);

  router.post('/users/registration/', byAddress('register', clientAddress), authBody, async (req, res) => {
    const user = await auth.register(req.body);
    res.status(201).json(toProfileResponse(user, baseUrlOf(req)));
  });

  router.post('/users/login/', byAddress('login', clientAddress), authBody, async (req, res) => {
    const { sessionId, session } = await auth.login(req.body);
    // A session the client held before logging in again is ended, not left to linger.
    const previous = sessionIdOf(req);
    if (previous) await auth.logout(previous);
    res.cookie(SESSION_COOKIE, sessionId, {
      ...cookieBase,
      httpOnly: true,
      maxAge: sessionTtlSeconds * 1000,
    });
    setCsrfCookie(res, session.csrfToken);
    res.json({ key: sessionId, redirect_url: null });
  });

  router.post('/users/logout/', loadSession(auth, { required: false }), enforceCsrf, async (_req, res) => {
    const current = res.locals.auth as Authenticated | undefined;
    if (current) await auth.logout(current.sessionId);
    res.clearCookie(SESSION_COOKIE, cookieBase).clearCookie(CSRF_COOKIE, cookieBase);
    res.json({ detail: 'Successfully logged out.' });
  });

  router.get('/csrf_token/', loadSession(auth, { required: false }), (_req, res) => {
    const current = res.locals.auth as Authenticated | undefined;
    const token = current?.session.csrfToken ?? newToken();
    setCsrfCookie(res, token);
    res.json({ csrf_token: token });
  });

  return router;
}
