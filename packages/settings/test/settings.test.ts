import { settingDefaultsFromEnv, validateSetting } from '../src/index.ts';

describe('settings', () => {
  test('when the environment sets nothing, then the built-in defaults apply', () => {
    const defaults = settingDefaultsFromEnv({});

    expect(defaults.SMS_OTP_EXPIRE_TIME).toBe(180);
    expect(defaults.PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE).toBe(true);
    expect(defaults.CUSTOMER_LOYALTY_CARD_SERVICE.enabled).toBe(false);
  });

  test('when the environment sets values, then a comma list and JSON are read', () => {
    const defaults = settingDefaultsFromEnv({
      USER_REQUIRED_FIELDS: 'phone, date_of_birth',
      SMS_OTP_EXPIRE_TIME: '60',
      THROTTLING_SETTINGS: '{"login":"5/min","register":null}',
    });

    expect(defaults.USER_REQUIRED_FIELDS).toEqual(['phone', 'date_of_birth']);
    expect(defaults.SMS_OTP_EXPIRE_TIME).toBe(60);
    expect(defaults.THROTTLING_SETTINGS).toEqual({ login: '5/min', register: null });
  });

  test('when the environment holds an invalid value, then start-up fails naming the key', () => {
    expect(() => settingDefaultsFromEnv({ USER_REQUIRED_FIELDS: 'password' })).toThrow(
      /USER_REQUIRED_FIELDS/,
    );
  });

  test('when the loyalty service is enabled without a base_url, then the value is refused', () => {
    const result = validateSetting('CUSTOMER_LOYALTY_CARD_SERVICE', {
      enabled: true,
      base_url: '',
      api_key: 'k',
      timeout_ms: 1000,
      sync_all_updates: false,
    });

    expect(result.ok).toBe(false);
  });

  test('when a boolean setting is given as a string, then it is refused rather than coerced', () => {
    expect(validateSetting('PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE', 'false').ok).toBe(false);
  });
});
