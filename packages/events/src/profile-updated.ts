import Joi from 'joi';

export const PROFILE_UPDATED = 'ProfileUpdated';
export const PROFILE_EVENTS_SCHEMA_VERSION = 1;

/**
 * Where a change came from: the plain profile endpoint, the with-loyalty endpoint, or the `resync`
 * command, which re-sends a user's current profile unchanged (every field named in
 * `changed_fields`) so the loyalty card service can catch up. Consumers must accept every source
 * before a producer sends a new one: deploy consumers first.
 */
export const PROFILE_UPDATE_SOURCES = ['profile', 'profile-with-loyalty', 'resync'] as const;
export type ProfileUpdateSource = (typeof PROFILE_UPDATE_SOURCES)[number];

/** The profile fields a user can write; `changed_fields` names a subset of them. */
export const WRITABLE_PROFILE_FIELDS = [
  'first_name',
  'last_name',
  'email_allowed',
  'sms_allowed',
  'whatsapp_allowed',
  'call_allowed',
  'phone',
  'date_of_birth',
  'gender',
  'language_code',
  'attributes',
  'avatar',
] as const;

export type WritableProfileField = (typeof WRITABLE_PROFILE_FIELDS)[number];

/** The profile as it stood right after the change: what consumers may rely on. */
export interface ProfileSnapshot {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  email_allowed: boolean;
  sms_allowed: boolean;
  whatsapp_allowed: boolean;
  call_allowed: boolean | null;
  phone: string | null;
  /**
   * Whether `phone` was confirmed with an SMS code sent to it: true only after a code confirmed
   * this number, false after any other change of phone. Added after schema_version 1 first
   * shipped, so events written before it lack it: read a missing value as false (unverified).
   */
  phone_verified?: boolean;
  date_of_birth: string | null;
  gender: 'male' | 'female' | null;
  language_code: string;
  attributes: Record<string, unknown>;
  /** Path of the avatar on the profile API (relative, host-independent), or null. */
  avatar: string | null;
  date_joined: string;
}

export interface ProfileUpdatedEvent {
  event_id: string;
  type: typeof PROFILE_UPDATED;
  schema_version: typeof PROFILE_EVENTS_SCHEMA_VERSION;
  occurred_at: string;
  user_id: number;
  /** The user's version after this change: strictly increasing per user, so consumers can order and dedupe. */
  profile_version: number;
  /** `phone` is listed when the number changed or only whether it is verified did. */
  changed_fields: WritableProfileField[];
  profile: ProfileSnapshot;
  source: ProfileUpdateSource;
}

const profileSnapshotSchema = Joi.object<ProfileSnapshot>({
  id: Joi.number().integer().positive().required(),
  email: Joi.string().required(),
  first_name: Joi.string().allow('').max(50).required(),
  last_name: Joi.string().allow('').max(50).required(),
  email_allowed: Joi.boolean().strict().required(),
  sms_allowed: Joi.boolean().strict().required(),
  whatsapp_allowed: Joi.boolean().strict().required(),
  call_allowed: Joi.boolean().strict().allow(null).required(),
  phone: Joi.string().allow(null).required(),
  // Optional: an additive change within schema_version 1 (events written before it lack it).
  phone_verified: Joi.boolean().strict(),
  date_of_birth: Joi.string()
    .pattern(/^\d{4}-\d{2}-\d{2}$/)
    .allow(null)
    .required(),
  gender: Joi.string().valid('male', 'female').allow(null).required(),
  language_code: Joi.string().required(),
  attributes: Joi.object().unknown(true).required(),
  avatar: Joi.string().allow(null).required(),
  date_joined: Joi.string().isoDate().required(),
});

export const profileUpdatedEventSchema = Joi.object<ProfileUpdatedEvent>({
  event_id: Joi.string().guid({ version: 'uuidv4' }).required(),
  type: Joi.string().valid(PROFILE_UPDATED).required(),
  schema_version: Joi.number().valid(PROFILE_EVENTS_SCHEMA_VERSION).required(),
  occurred_at: Joi.string().isoDate().required(),
  user_id: Joi.number().integer().positive().required(),
  profile_version: Joi.number().integer().positive().required(),
  changed_fields: Joi.array()
    .items(Joi.string().valid(...WRITABLE_PROFILE_FIELDS))
    .min(1)
    .required(),
  profile: profileSnapshotSchema.required(),
  source: Joi.string()
    .valid(...PROFILE_UPDATE_SOURCES)
    .required(),
});

export type ParsedEvent = { ok: true; event: ProfileUpdatedEvent } | { ok: false; reason: string };

/** Consumers parse before acting: a message that breaks the contract is a poison message, not a crash. */
export function parseProfileUpdated(raw: Buffer | string | null): ParsedEvent {
  if (raw === null) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    return { ok: false, reason: 'message is not JSON' };
  }
  const { value, error } = profileUpdatedEventSchema.validate(json, { abortEarly: false, convert: false });
  if (error) return { ok: false, reason: error.message };
  return { ok: true, event: value };
}
