import { waitFor } from '@app/testkit';
import { ADMIN_TOKEN, startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import { ApiClient } from '../support/api-client.ts';

describe('profile-api: live settings', () => {
  let harness: ProfileApiHarness;
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    harness = await startProfileApiHarness('settings');
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('when no or a wrong admin token is sent, then 401 or 403', async () => {
    const admin = harness.admin();

    const missing = await admin.get('/admin/settings/SMS_OTP_EXPIRE_TIME');
    const wrong = await admin.get('/admin/settings/SMS_OTP_EXPIRE_TIME', {
      headers: { authorization: 'Bearer nope' },
    });

    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual({ detail: 'You do not have permission to perform this action.' });
  });

  test('when a setting was never written, then GET returns the default from the environment', async () => {
    const response = await harness
      .admin()
      .get('/admin/settings/PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE', { headers: bearer });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ key: 'PHONE_NUMBER_UNIQUE_VALIDATOR_ACTIVE', value: true });
  });

  test.each([
    ['SMS_OTP_EXPIRE_TIME', '180'],
    ['USER_REQUIRED_FIELDS', ['password']],
    ['THROTTLING_SETTINGS', { login: 'lots' }],
    ['CUSTOMER_LOYALTY_CARD_SERVICE', { enabled: true }],
  ])('when %s gets the invalid value %j, then 400 on value and nothing changes', async (key, value) => {
    const admin = harness.admin();
    const before = await admin.get(`/admin/settings/${key}`, { headers: bearer });

    const response = await admin.put(`/admin/settings/${key}`, { value }, { headers: bearer });

    expect(response.status).toBe(400);
    expect(Object.keys(response.body)).toEqual(['value']);
    expect((response.body.value as string[]).length).toBeGreaterThan(0);
    expect((await admin.get(`/admin/settings/${key}`, { headers: bearer })).body).toEqual(before.body);
  });

  test('when the key is unknown or the value missing, then 404 or 400', async () => {
    const admin = harness.admin();

    expect((await admin.get('/admin/settings/DEBUG', { headers: bearer })).status).toBe(404);
    const missing = await admin.put('/admin/settings/SMS_OTP_EXPIRE_TIME', { val: 1 }, { headers: bearer });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ value: ['This field is required.'] });
  });

  test('when the loyalty setting is read, then its api_key is masked to its last 4 characters, in the PUT answer too', async () => {
    const admin = harness.admin();
    const value = {
      enabled: false,
      base_url: 'https://loyalty.example.com',
      api_key: 'live-key-0123456789-abcd',
      timeout_ms: 2_000,
      sync_all_updates: false,
    };

    const written = await admin.put(
      '/admin/settings/CUSTOMER_LOYALTY_CARD_SERVICE',
      { value },
      { headers: bearer },
    );
    const read = await admin.get('/admin/settings/CUSTOMER_LOYALTY_CARD_SERVICE', { headers: bearer });

    expect(written.status).toBe(200);
    expect(written.body).toEqual({
      key: 'CUSTOMER_LOYALTY_CARD_SERVICE',
      value: { ...value, api_key: '****abcd' },
    });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(written.body);
    expect(JSON.stringify(read.body)).not.toContain('0123456789');
  });

  test('when the masked value read is sent back with another field changed, then the key is kept; a new key replaces it', async () => {
    const admin = harness.admin();
    const path = '/admin/settings/CUSTOMER_LOYALTY_CARD_SERVICE';
    const original = 'original-key-0000-1111';
    await admin.put(
      path,
      {
        value: {
          enabled: false,
          base_url: 'https://loyalty.example.com',
          api_key: original,
          timeout_ms: 2_000,
          sync_all_updates: false,
        },
      },
      { headers: bearer },
    );
    const read = (await admin.get(path, { headers: bearer })).body.value as Record<string, unknown>;

    const edited = await admin.put(path, { value: { ...read, timeout_ms: 4_000 } }, { headers: bearer });
    const stored = (await harness.storedDocument('settings', 'CUSTOMER_LOYALTY_CARD_SERVICE'))?.value;
    const foreignMask = await admin.put(
      path,
      { value: { ...read, api_key: '****9999' } },
      { headers: bearer },
    );
    const rotated = await admin.put(
      path,
      { value: { ...read, api_key: 'rotated-key-2222-3333' } },
      { headers: bearer },
    );

    expect(edited.status).toBe(200);
    expect(edited.body.value).toMatchObject({ api_key: '****1111', timeout_ms: 4_000 });
    expect(stored).toMatchObject({ api_key: original, timeout_ms: 4_000 });
    expect(foreignMask.status).toBe(400);
    expect(foreignMask.body).toEqual({
      value: ['"api_key" is masked: send the real key, or the current mask exactly as read to keep the key'],
    });
    expect(rotated.body.value).toMatchObject({ api_key: '****3333' });
    expect((await harness.storedDocument('settings', 'CUSTOMER_LOYALTY_CARD_SERVICE'))?.value).toMatchObject({
      api_key: 'rotated-key-2222-3333',
    });
  });

  test('when a setting changes on one replica, then another replica applies it within 2 s without restart', async () => {
    const replica = await harness.startReplica();
    const { client } = await harness.signUp();
    const onReplica = client.withBaseUrl(replica.url);
    expect((await onReplica.patch('/users/profile/', { date_of_birth: null })).status).toBe(200);

    const changedAt = Date.now();
    await harness.setSetting('USER_REQUIRED_FIELDS', ['date_of_birth']);
    try {
      const rejected = await waitFor(
        'the replica to enforce the new required field',
        async () => {
          const response = await onReplica.patch('/users/profile/', { first_name: `t${Date.now()}` });
          return response.status === 400 ? response : undefined;
        },
        { timeoutMs: 2_000 },
      );
      expect(Date.now() - changedAt).toBeLessThanOrEqual(2_000);
      expect(rejected.body).toEqual({ date_of_birth: ['This field is required.'] });
      const read = await new ApiClient(replica.managementUrl).get('/admin/settings/USER_REQUIRED_FIELDS', {
        headers: bearer,
      });
      expect(read.body).toEqual({ key: 'USER_REQUIRED_FIELDS', value: ['date_of_birth'] });
    } finally {
      await harness.setSetting('USER_REQUIRED_FIELDS', []);
    }
  });
});
