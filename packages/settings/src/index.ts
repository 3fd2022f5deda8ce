export { settingDefaultsFromEnv } from './defaults.ts';
export {
  RATE_PATTERN,
  REQUIRABLE_PROFILE_FIELDS,
  SETTING_KEYS,
  THROTTLE_SCOPES,
  isSettingKey,
  settingSchemas,
  validateSetting,
  type LoyaltyCardServiceSetting,
  type SettingKey,
  type Settings,
  type ThrottleScope,
} from './setting-schemas.ts';
export { MASK, maskSecret, maskSecrets, restoreMaskedSecrets } from './secret-masking.ts';
export { SettingValidationError, SettingsStore, type SettingsStoreOptions } from './settings-store.ts';
