import type { ProfileSnapshot } from '@app/events';
import { extensionFor } from './avatar-image.ts';
import { GENDERS, type AvatarRef, type Profile } from './user.ts';

export function avatarPath(userId: number, avatar: AvatarRef | null): string | null {
  return avatar ? `/media/avatars/${userId}/${avatar.hash}.${extensionFor(avatar.content_type)}` : null;
}

/** What consumers of ProfileUpdated see: host-independent, no secrets. */
export function toSnapshot(user: Profile): ProfileSnapshot {
  return {
    id: user.id,
    email: user.email,
    first_name: user.first_name,
    last_name: user.last_name,
    email_allowed: user.email_allowed,
    sms_allowed: user.sms_allowed,
    whatsapp_allowed: user.whatsapp_allowed,
    call_allowed: user.call_allowed,
    phone: user.phone,
    date_of_birth: user.date_of_birth,
    gender: user.gender,
    language_code: user.language_code,
    attributes: user.attributes,
    avatar: avatarPath(user.id, user.avatar),
    date_joined: user.date_joined.toISOString(),
  };
}

/** The UserProfile schema of the contract, exactly: avatar as an absolute URL, genders listed. */
export function toProfileResponse(user: Profile, baseUrl: string) {
  const { avatar, ...snapshot } = toSnapshot(user);
  return {
    ...snapshot,
    avatar: avatar ? `${baseUrl}${avatar}` : null,
    genders: [...GENDERS],
  };
}

export function toProfileWithLoyaltyResponse(user: Profile, baseUrl: string) {
  return { ...toProfileResponse(user, baseUrl), code: null, resend: false };
}
