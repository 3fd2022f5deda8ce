import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { AppError } from '@app/service-kit';
import {
  SettingValidationError,
  isSettingKey,
  maskSecrets,
  restoreMaskedSecrets,
  type SettingsStore,
} from '@app/settings';
import { authBody } from '../middlewares/body.ts';

function requireAdminToken(adminToken: string): RequestHandler {
  const expected = Buffer.from(adminToken);
  return (req, _res, next) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    if (!match) {
      throw new AppError('not-authenticated', 'no admin token', {
        status: 401,
        body: { detail: 'Authentication credentials were not provided.' },
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    const given = Buffer.from(match[1]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('forbidden', 'wrong admin token', {
        status: 403,
        body: { detail: 'You do not have permission to perform this action.' },
      });
    }
    next();
  };
}

function settingKeyOf(key: string | string[] | undefined) {
  if (typeof key !== 'string' || !isSettingKey(key)) {
    throw new AppError('not-found', 'unknown setting', { status: 404, body: { detail: 'Not found.' } });
  }
  return key;
}

/**
 * Operators change live settings here; every replica picks the change up without a restart.
 * Secrets (the loyalty api_key) are answered masked; a PUT carrying the mask back keeps the key.
 */
export function settingsRoutes({
  settings,
  adminToken,
}: {
  settings: SettingsStore;
  adminToken: string;
}): Router {
  const router = Router();
  router.use('/admin/settings', requireAdminToken(adminToken));

  router.get('/admin/settings/:key', async (req, res) => {
    const key = settingKeyOf(req.params.key);
    res.json({ key, value: maskSecrets(key, await settings.get(key)) });
  });

  router.put('/admin/settings/:key', authBody, async (req, res) => {
    const key = settingKeyOf(req.params.key);
    const body = req.body as { value?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !('value' in body)) {
      throw new AppError('validation-failed', 'value missing', {
        status: 400,
        body: { value: ['This field is required.'] },
      });
    }
    try {
      const value = restoreMaskedSecrets(key, body.value, await settings.get(key));
      res.json({ key, value: maskSecrets(key, await settings.set(key, value)) });
    } catch (error) {
      if (error instanceof SettingValidationError) {
        throw new AppError('validation-failed', error.message, {
          status: 400,
          body: { value: error.messages },
        });
      }
      throw error;
    }
  });

  return router;
}
