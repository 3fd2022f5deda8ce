import Joi from 'joi';
import { WRITABLE_PROFILE_FIELDS } from '@app/events';

/** Profile fields an operator may make mandatory through USER_REQUIRED_FIELDS: any writable one. */
export const REQUIRABLE_PROFILE_FIELDS = WRITABLE_PROFILE_FIELDS;

export const THROTTLE_SCOPES = ['login', 'register', 'profile-update', 'phone-verification'] as const;
export type ThrottleScope = (typeof THROTTLE_SCOPES)[number];

/** DRF's rate notation: "10/min", "1000/day"; null turns a scope off. */
export const RATE_PATTERN = /^(\d+)\/(s|sec|second|m|min|minute|h|hour|d|day)$/;

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
}

export type SettingKey = keyof Settings;

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
