import { randomUUID } from 'node:crypto';
import {
  PROFILE_EVENTS_SCHEMA_VERSION,
  PROFILE_UPDATED,
  type ProfileSnapshot,
  type ProfileUpdateSource,
  type ProfileUpdatedEvent,
} from '@app/events';
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
    phone_verified: user.phone_verified,
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
  // phone_verified is for the events only: the contract's UserProfile has no such field.
  const { avatar, phone_verified: _verified, ...snapshot } = toSnapshot(user);
  return {
    ...snapshot,
    avatar: avatar ? `${baseUrl}${avatar}` : null,
    genders: [...GENDERS],
  };
}

export function toProfileWithLoyaltyResponse(user: Profile, baseUrl: string) {
  return { ...toProfileResponse(user, baseUrl), code: null, resend: false };
}

/** The ProfileUpdated event a commit of `next` (the profile at its new version) appends. */
export function profileUpdatedEvent(
  next: Profile,
  changedFields: readonly string[],
  source: ProfileUpdateSource,
): ProfileUpdatedEvent {
  return {
    event_id: randomUUID(),
    type: PROFILE_UPDATED,
    schema_version: PROFILE_EVENTS_SCHEMA_VERSION,
    occurred_at: new Date().toISOString(),
    user_id: next.id,
    profile_version: next.version,
    changed_fields: [...changedFields] as ProfileUpdatedEvent['changed_fields'],
    profile: toSnapshot(next),
    source,
  };
}
