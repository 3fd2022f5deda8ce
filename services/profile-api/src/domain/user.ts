import { WRITABLE_PROFILE_FIELDS } from '@app/events';

export const GENDERS = ['male', 'female'] as const;
export type Gender = (typeof GENDERS)[number];

export interface AvatarRef {
  hash: string;
  content_type: string;
}

/** The fields a user may write through the profile endpoints. */
export interface ProfileFields {
  first_name: string;
  last_name: string;
  email_allowed: boolean;
  sms_allowed: boolean;
  whatsapp_allowed: boolean;
  call_allowed: boolean | null;
  phone: string | null;
  date_of_birth: string | null;
  gender: Gender | null;
  language_code: string;
  attributes: Record<string, unknown>;
  avatar: AvatarRef | null;
}

export type ProfileField = keyof ProfileFields;

export const PROFILE_FIELDS: readonly ProfileField[] = WRITABLE_PROFILE_FIELDS;

/** A user as the profile endpoints see it: everything but the credentials. */
export interface Profile extends ProfileFields {
  id: number;
  email: string;
  date_joined: Date;
  /**
   * Whether `phone` was confirmed by an SMS code sent to it. Only a code confirming the number
   * sets it; any other change of phone (the plain endpoint, registration, removal) clears it.
   * Not a profile field: no client writes it, and the HTTP answers do not show it.
   */
  phone_verified: boolean;
  /** Incremented by every committed change; orders the user's events. */
  version: number;
}

export interface User extends Profile {
  password_hash: string;
}

export type ProfileChanges = Partial<ProfileFields>;

/**
 * Whether the phone is verified after a change: a change confirmed by a code sent to
 * `verifiedPhone` verifies that number; any other change of number leaves it unverified; no
 * number is never verified.
 */
export function phoneVerifiedAfter(
  before: Pick<User, 'phone' | 'phone_verified'>,
  phoneAfter: string | null,
  verifiedPhone?: string,
): boolean {
  if (phoneAfter === null) return false;
  if (verifiedPhone !== undefined && phoneAfter === verifiedPhone) return true;
  return phoneAfter === before.phone ? before.phone_verified : false;
}
