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
  /** Incremented by every committed change; orders the user's events. */
  version: number;
}

export interface User extends Profile {
  password_hash: string;
}

export type ProfileChanges = Partial<ProfileFields>;
