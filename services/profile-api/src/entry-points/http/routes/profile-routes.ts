import { Router, type Request } from 'express';
import type { AuthUseCase } from '../../../domain/auth-use-case.ts';
import { sniffImageType } from '../../../domain/avatar-image.ts';
import { fieldError } from '../../../domain/errors.ts';
import type { PhoneVerificationUseCase } from '../../../domain/phone-verification-use-case.ts';
import { toProfileResponse, toProfileWithLoyaltyResponse } from '../../../domain/profile-representation.ts';
import { coerceFormFields, type ProfileRules } from '../../../domain/profile-schema.ts';
import type { AvatarUpload, ProfileUseCase } from '../../../domain/profile-use-case.ts';
import type { Throttler } from '../../../domain/throttler.ts';
import { authOf, baseUrlOf } from '../context.ts';
import { profileBody } from '../middlewares/body.ts';
import { enforceCsrf, loadSession } from '../middlewares/session.ts';

export interface ProfileRoutesDeps {
  auth: AuthUseCase;
  profiles: ProfileUseCase;
  phoneVerification: PhoneVerificationUseCase;
  rules: ProfileRules;
  throttler: Throttler;
}

function bodyOf(req: Request): unknown {
  if (req.is('multipart/form-data')) return coerceFormFields({ ...(req.body as Record<string, unknown>) });
  return req.body ?? {};
}

function avatarUploadOf(req: Request): AvatarUpload | undefined {
  if (!req.file) return undefined;
  const contentType = sniffImageType(req.file.buffer);
  if (!contentType) throw fieldError('avatar', 'Upload a valid image: PNG, JPEG or WebP.', 'invalid-image');
  return { data: req.file.buffer, contentType };
}

export function profileRoutes({
  auth,
  profiles,
  phoneVerification,
  rules,
  throttler,
}: ProfileRoutesDeps): Router {
  const router = Router();
  router.use(
    ['/users/profile/', '/users/profile-with-loyalty/'],
    loadSession(auth, { required: true }),
    enforceCsrf,
  );

  router.get('/users/profile/', async (req, res) => {
    const user = await profiles.getProfile(authOf(res).session.userId);
    res.json(toProfileResponse(user, baseUrlOf(req)));
  });

  router.get('/users/profile-with-loyalty/', async (req, res) => {
    const user = await profiles.getProfile(authOf(res).session.userId);
    res.json(toProfileWithLoyaltyResponse(user, baseUrlOf(req)));
  });

  for (const partial of [false, true]) {
    const method = partial ? 'patch' : 'put';

    router[method]('/users/profile/', profileBody, async (req, res) => {
      const { userId } = authOf(res).session;
      await throttler.check('profile-update', String(userId));
      const { changes } = rules.validate(bodyOf(req), { partial, withLoyalty: false });
      const withAvatar = await profiles.prepareAvatar(avatarUploadOf(req), changes);
      const user = await profiles.updateProfile(userId, withAvatar, 'profile');
      res.json(toProfileResponse(user, baseUrlOf(req)));
    });

    router[method]('/users/profile-with-loyalty/', profileBody, async (req, res) => {
      const { userId } = authOf(res).session;
      await throttler.check('profile-update', String(userId));
      const input = rules.validate(bodyOf(req), { partial, withLoyalty: true });
      const changes = await profiles.prepareAvatar(avatarUploadOf(req), input.changes);
      const result = await phoneVerification.update(userId, { ...input, changes });
      if (result.outcome === 'code-sent') res.status(202).json({ detail: 'Verification code sent.' });
      else res.json(toProfileWithLoyaltyResponse(result.user, baseUrlOf(req)));
    });
  }

  return router;
}
