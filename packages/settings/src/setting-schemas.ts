import Joi from 'joi';
import { WRITABLE_PROFILE_FIELDS } from '@app/events';

/** Profile fields an operator may make mandatory through USER_REQUIRED_FIELDS: any writable one. */
export const REQUIRABLE_PROFILE_FIELDS = WRITABLE_PROFILE_FIELDS;

export const THROTTLE_SCOPES = ['login', 'register', 'profile-update', 'phone-verification'] as const;
export type ThrottleScope = (typeof THROTTLE_SCOPES)[number];

/**
 * DRF's rate notation, "10/min", "1000/day", plus an optional count of periods: "5/15min" is 5
 * per 15 minutes. null turns a scope off.
 */
export const RATE_PATTERN = /^(\d+)\/([1-9]\d{0,3})?(s|sec|second|m|min|minute|h|hour|d|day)$/;

/**
 * Limits against abuse that no per-user rate stops: SMS pumping through many accounts (per
 * destination number, and a global SMS budget) and password guessing spread over many addresses
 * (per account). Each is a rate (RATE_PATTERN) or null for off.
 */
export interface AbuseLimitsSetting {
  /** SMS (codes and resends) to one number, whoever asks. */
  sms_per_number: string | null;
  /** SMS the whole service sends: the budget an attacker can burn. */
  sms_global: string | null;
  /**
   * Login attempts per account (the lower-cased email, known or not) since its last successful
   * login: beyond it the account answers 429 until the window ends.
   */
  login_failures_per_account: string | null;
}

export interface LoyaltyCardServiceSetting {
  enabled: boolean;
  base_url: string;
  api_key: string;
  timeout_ms: number;
  sync_all_updates: boolean;
}

export interface Settings {
  USER_REQUIRED_FIELDS: string[];
  PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE: boolean;
  SMS_OTP_EXPIRE_TIME: number;
  THROTTLING_SETTINGS: Partial<Record<ThrottleScope, string | null>>;
  CUSTOMER_LOYALTY_CARD_SERVICE: LoyaltyCardServiceSetting;
  ABUSE_LIMITS: AbuseLimitsSetting;
}

export type SettingKey = keyof Settings;

const rate = () => Joi.string().pattern(RATE_PATTERN).allow(null).required();

export const settingSchemas: { [K in SettingKey]: Joi.Schema<Settings[K]> } = {
  USER_REQUIRED_FIELDS: Joi.array()
    .items(Joi.string().valid(...REQUIRABLE_PROFILE_FIELDS))
    .unique(),
  PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE: Joi.boolean().strict(),
  SMS_OTP_EXPIRE_TIME: Joi.number().strict().integer().min(30).max(3600),
  THROTTLING_SETTINGS: Joi.object(
    Object.fromEntries(
      THROTTLE_SCOPES.map((scope) => [scope, Joi.string().pattern(RATE_PATTERN).allow(null)]),
    ),
  ),
  CUSTOMER_LOYALTY_CARD_SERVICE: Joi.object({
    enabled: Joi.boolean().strict().required(),
    // Empty only while the service is off: an enabled sync needs somewhere to go.
    base_url: Joi.string()
      .uri({ scheme: ['http', 'https'] })
      .required()
      .when('enabled', { is: false, then: Joi.allow('') }),
    // Never a masked value ("****..." as GET answers it): that would replace the key with its mask.
    api_key: Joi.string()
      .allow('')
      .max(500)
      .pattern(/^(?!\*{4})/)
      .required()
      .messages({
        'string.pattern.base':
          '"api_key" is masked: send the real key, or the current mask exactly as read to keep the key',
      }),
    timeout_ms: Joi.number().strict().integer().min(50).max(60_000).required(),
    sync_all_updates: Joi.boolean().strict().required(),
  }),
  ABUSE_LIMITS: Joi.object({
    sms_per_number: rate(),
    sms_global: rate(),
    login_failures_per_account: rate(),
  }),
};

export const SETTING_KEYS = Object.keys(settingSchemas) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settingSchemas, key);
}

export type SettingValidation<K extends SettingKey> =
  { ok: true; value: Settings[K] } | { ok: false; messages: string[] };

export function validateSetting<K extends SettingKey>(key: K, value: unknown): SettingValidation<K> {
  const { value: validated, error } = settingSchemas[key].validate(value, {
    abortEarly: false,
    convert: false,
  });
  if (error) return { ok: false, messages: error.details.map((detail) => detail.message) };
  return { ok: true, value: validated as Settings[K] };
}
