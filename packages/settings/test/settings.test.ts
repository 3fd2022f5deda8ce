import {
  maskSecret,
  maskSecrets,
  restoreMaskedSecrets,
  settingDefaultsFromEnv,
  validateSetting,
} from '../src/index.ts';

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

describe('secret masking', () => {
  const loyalty = {
    enabled: true,
    base_url: 'https://loyalty.example.com',
    api_key: 'live-key-0123456789-abcd',
    timeout_ms: 2_000,
    sync_all_updates: false,
  };

  test('when the loyalty setting is shown, then its api_key is "****" and its last 4 characters, a short key shows none, an unset one stays empty', () => {
    expect(maskSecrets('CUSTOMER_LOYALTY_CARD_SERVICE', loyalty)).toEqual({
      ...loyalty,
      api_key: '****abcd',
    });
    expect(maskSecret('short-key')).toBe('****');
    expect(maskSecret('')).toBe('');
    expect(maskSecrets('SMS_OTP_EXPIRE_TIME', 180)).toBe(180);
  });

  test('when the mask read from GET is sent back, then the stored key is kept; a new key replaces it', () => {
    const edited = { ...loyalty, api_key: '****abcd', timeout_ms: 5_000 };

    expect(restoreMaskedSecrets('CUSTOMER_LOYALTY_CARD_SERVICE', edited, loyalty)).toEqual({
      ...loyalty,
      timeout_ms: 5_000,
    });
    expect(
      restoreMaskedSecrets(
        'CUSTOMER_LOYALTY_CARD_SERVICE',
        { ...loyalty, api_key: 'rotated-key-9999' },
        loyalty,
      ),
    ).toEqual({ ...loyalty, api_key: 'rotated-key-9999' });
  });

  test('when a masked value that is not the current mask is sent, then the schema refuses it rather than storing the mask', () => {
    const value = restoreMaskedSecrets(
      'CUSTOMER_LOYALTY_CARD_SERVICE',
      { ...loyalty, api_key: '****zzzz' },
      loyalty,
    );

    const result = validateSetting('CUSTOMER_LOYALTY_CARD_SERVICE', value);
    expect(result).toEqual({
      ok: false,
      messages: [
        '"api_key" is masked: send the real key, or the current mask exactly as read to keep the key',
      ],
    });
  });
});
