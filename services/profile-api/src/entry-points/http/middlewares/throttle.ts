import type { Request, RequestHandler } from 'express';
import type { ThrottleScope } from '@app/settings';
import type { Throttler } from '../../../domain/throttler.ts';

export function throttle(
  throttler: Throttler,
  scope: ThrottleScope,
  identify: (req: Request, locals: Record<string, unknown>) => string,
): RequestHandler {
  return async (req, res, next) => {
    await throttler.check(scope, identify(req, res.locals));
    next();
  };
}
