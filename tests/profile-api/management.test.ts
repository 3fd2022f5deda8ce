import { ADMIN_TOKEN, startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import { ApiClient } from '../support/api-client.ts';

describe('profile-api: management port', () => {
  let harness: ProfileApiHarness;
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    harness = await startProfileApiHarness('management', { MANAGEMENT_PORT: '0' });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  test('when MANAGEMENT_PORT is set, then the admin API and /metrics answer 404 on the public port and are served on the management port', async () => {
    const publicPort = harness.client();
    const management = new ApiClient(harness.api.managementUrl);
    expect(harness.api.managementUrl).not.toBe(harness.api.url);

    const adminOnPublic = await publicPort.get('/admin/settings/SMS_OTP_EXPIRE_TIME', { headers: bearer });
    const adminWriteOnPublic = await publicPort.put(
      '/admin/settings/SMS_OTP_EXPIRE_TIME',
      { value: 60 },
      { headers: bearer },
    );
    const metricsOnPublic = await fetch(`${harness.api.url}/metrics`);
    const adminOnManagement = await management.get('/admin/settings/SMS_OTP_EXPIRE_TIME', {
      headers: bearer,
    });
    const metricsOnManagement = await fetch(`${harness.api.managementUrl}/metrics`);

    expect(adminOnPublic.status).toBe(404);
    expect(adminWriteOnPublic.status).toBe(404);
    expect(metricsOnPublic.status).toBe(404);
    expect(adminOnManagement.status).toBe(200);
    expect(adminOnManagement.body).toEqual({ key: 'SMS_OTP_EXPIRE_TIME', value: 180 });
    expect(metricsOnManagement.status).toBe(200);
    expect(await metricsOnManagement.text()).toContain('http_request_duration_seconds');
  });

  test('when the management port is separate, then it still guards the admin API with the token and serves nothing of the public API', async () => {
    const management = new ApiClient(harness.api.managementUrl);

    expect((await management.get('/admin/settings/SMS_OTP_EXPIRE_TIME')).status).toBe(401);
    expect((await management.post('/users/login/', { email: 'a@example.com', password: 'x' })).status).toBe(
      404,
    );
    expect((await management.get('/users/profile/')).status).toBe(404);
  });

  test('when the management port is separate, then the public API, its probes and a settings change through the management port all work', async () => {
    const { client } = await harness.signUp();
    await harness.setSetting('USER_REQUIRED_FIELDS', []);

    expect((await client.get('/users/profile/')).status).toBe(200);
    expect((await fetch(`${harness.api.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${harness.api.url}/readyz`)).status).toBe(200);
  });
});
