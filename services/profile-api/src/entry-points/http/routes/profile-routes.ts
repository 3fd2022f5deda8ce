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

/** Whether a string is the URL (absolute or relative, any host) of one of this user's avatars. */
function isOwnAvatarUrl(value: string, userId: number): boolean {
  let path: string;
  try {
    path = new URL(value, 'http://localhost').pathname;
  } catch {
    return false;
  }
  return new RegExp(`^/media/avatars/${userId}/[a-f0-9]{64}\\.\\w+$`).test(path);
}

/**
 * The request's fields as the profile rules take them. A GET representation carries the avatar as
 * its URL; a client that sends the representation back (as DRF clients do) must not be refused for
 * it, so a URL of this user's own avatar reads as "leave the avatar as it is". Any other string
 * stays and the rules refuse it: an avatar is set by uploading a file and removed with null.
 */
function bodyOf(req: Request, userId: number): unknown {
  const body: unknown = req.is('multipart/form-data')
    ? coerceFormFields({ ...(req.body as Record<string, unknown>) })
    : (req.body ?? {});
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const { avatar, ...rest } = body as Record<string, unknown>;
  return typeof avatar === 'string' && isOwnAvatarUrl(avatar, userId) ? rest : body;
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
      const { changes } = rules.validate(bodyOf(req, userId), { partial, withLoyalty: false });
      const withAvatar = await profiles.prepareAvatar(avatarUploadOf(req), changes);
      const user = await profiles.updateProfile(userId, withAvatar, 'profile');
      res.json(toProfileResponse(user, baseUrlOf(req)));
    });

    router[method]('/users/profile-with-loyalty/', profileBody, async (req, res) => {
      const { userId } = authOf(res).session;
      await throttler.check('profile-update', String(userId));
      const input = rules.validate(bodyOf(req, userId), { partial, withLoyalty: true });
      const changes = await profiles.prepareAvatar(avatarUploadOf(req), input.changes);
      const result = await phoneVerification.update(userId, { ...input, changes });
      if (result.outcome === 'code-sent') res.status(202).json({ detail: 'Verification code sent.' });
      else res.json(toProfileWithLoyaltyResponse(result.user, baseUrlOf(req)));
    });
  }

  return router;
}
