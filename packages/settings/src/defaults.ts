import { SETTING_KEYS, validateSetting, type SettingKey, type Settings } from './setting-schemas.ts';

const BUILT_IN_DEFAULTS: Settings = {
  USER_REQUIRED_FIELDS: [],
  PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE: true,
  SMS_OTP_EXPIRE_TIME: 180,
  THROTTLING_SETTINGS: {
    login: '20/min',
    register: '10/min',
    'profile-update': '120/min',
    'phone-verification': '20/hour',
  },
  CUSTOMER_LOYALTY_CARD_SERVICE: {
    enabled: false,
    base_url: '',
    api_key: '',
    timeout_ms: 2_000,
    sync_all_updates: false,
  },
  ABUSE_LIMITS: {
    sms_per_number: '5/hour',
    sms_global: '100/min',
    login_failures_per_account: '5/15min',
  },
};

function parseEnvValue(key: SettingKey, raw: string): unknown {
  if (key === 'USER_REQUIRED_FIELDS' && !raw.trim().startsWith('[')) {
    return raw
      .split(',')
      .map((field) => field.trim())
      .filter(Boolean);
  }
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Defaults come from the environment (same key names; JSON, or a comma list for
 * USER_REQUIRED_FIELDS), else built-in values. A bad value stops the service at start.
 */
export function settingDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const defaults: Record<string, unknown> = { ...BUILT_IN_DEFAULTS };
  for (const key of SETTING_KEYS) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    const result = validateSetting(key, parseEnvValue(key, raw));
    if (!result.ok) throw new Error(`invalid ${key} in the environment: ${result.messages.join('; ')}`);
    defaults[key] = result.value;
  }
  return defaults as unknown as Settings;
}
