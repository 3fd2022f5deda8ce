import { expectContractBody } from '../support/contract.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import type { ApiClient } from '../support/api-client.ts';

const PROFILE = '/users/profile/';
const LOYALTY = '/users/profile-with-loyalty/';

const fullProfile = {
  first_name: 'Ada',
  last_name: 'Lovelace',
  email_allowed: true,
  sms_allowed: false,
  whatsapp_allowed: true,
  call_allowed: null,
  phone: null,
  date_of_birth: '1990-12-10',
  gender: 'female',
  language_code: 'en',
  attributes: { newsletter: 'weekly', sizes: { shoe: 38 } },
};

// 1x1 PNG
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

function imageForm(bytes: Buffer, fields: Record<string, string> = {}, filename = 'avatar.png'): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('avatar', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), filename);
  return form;
}

describe('profile-api: profile operations', () => {
  let harness: ProfileApiHarness;
  let client: ApiClient;
  let email: string;

  beforeAll(async () => {
    harness = await startProfileApiHarness('profile');
    ({ client, email } = await harness.signUp());
  });

  afterAll(async () => {
    await harness.stop();
  });

  describe.each([
    [PROFILE, 'getProfile'],
    [LOYALTY, 'getProfileWithLoyalty'],
  ])('GET %s', (path) => {
    test('when the session is valid, then 200 is exactly the contract schema', async () => {
      const response = await client.get(path);

      expect(response.status).toBe(200);
      expectContractBody(path, 'get', 200, response.body);
      expect(response.body).toMatchObject({ email, genders: ['male', 'female'], first_name: 'Ada' });
      if (path === LOYALTY) expect(response.body).toMatchObject({ code: null, resend: false });
      else expect(response.body).not.toHaveProperty('code');
    });
  });

  describe.each([
    ['put', PROFILE],
    ['patch', PROFILE],
    ['put', LOYALTY],
    ['patch', LOYALTY],
  ] as const)('%s %s', (method, path) => {
    test('when the body is valid, then 200 returns the updated profile in the contract schema', async () => {
      const body =
        method === 'put' ? { ...fullProfile, last_name: `${method}-${path.length}` } : { last_name: 'Byron' };

      const response = await client.request(method.toUpperCase(), path, body);

      expect(response.status).toBe(200);
      expectContractBody(path, method, 200, response.body);
      expect(response.body.last_name).toBe(body.last_name);
      expect((await client.get(path)).body.last_name).toBe(body.last_name);
    });

    test('when a field breaks a rule, then 400 names the field in DRF shape and nothing changes', async () => {
      const before = (await client.get(path)).body;
      const body = { ...(method === 'put' ? fullProfile : {}), first_name: 'x'.repeat(51), gender: 'other' };

      const response = await client.request(method.toUpperCase(), path, body);

      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        first_name: ['Ensure this field has no more than 50 characters.'],
        gender: ['"other" is not a valid choice.'],
      });
      expect((await client.get(path)).body).toEqual(before);
    });

    test('when no session is sent, then 401', async () => {
      const response = await harness.client().request(method.toUpperCase(), path, { first_name: 'Eve' });

      expect(response.status).toBe(401);
      expect(response.body).toEqual({ detail: 'Authentication credentials were not provided.' });
    });

    test('when the CSRF header is missing or wrong, then 403 and nothing changes', async () => {
      const missing = await client.request(
        method.toUpperCase(),
        path,
        { first_name: 'Mallory' },
        { withoutCsrf: true },
      );
      const wrong = await client.request(
        method.toUpperCase(),
        path,
        { first_name: 'Mallory' },
        { withoutCsrf: true, headers: { 'x-csrftoken': 'not-the-token' } },
      );

      expect(missing.status).toBe(403);
      expect(missing.body).toEqual({ detail: 'CSRF Failed: CSRF token missing.' });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toEqual({ detail: 'CSRF Failed: CSRF token incorrect.' });
      expect((await client.get(path)).body.first_name).not.toBe('Mallory');
    });
  });

  test('when PUT leaves out a field of the full representation, then 400 says it is required', async () => {
    const { gender: _gender, attributes: _attributes, ...partial } = fullProfile;

    const response = await client.put(PROFILE, partial);

    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      gender: ['This field is required.'],
      attributes: ['This field is required.'],
    });
  });

  test('when read-only fields are sent, then they are ignored as DRF does', async () => {
    const before = (await client.get(PROFILE)).body;

    const response = await client.patch(PROFILE, {
      id: 999,
      email: 'other@example.com',
      date_joined: '2000-01-01T00:00:00Z',
      genders: ['x'],
      first_name: 'Augusta',
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: before.id,
      email: before.email,
      date_joined: before.date_joined,
      genders: ['male', 'female'],
      first_name: 'Augusta',
    });
  });

  test.each([
    [{ email_allowed: 'true' }, { email_allowed: ['Must be a valid boolean.'] }],
    [{ call_allowed: 1 }, { call_allowed: ['Must be a valid boolean.'] }],
    [
      { date_of_birth: '1990-02-30' },
      { date_of_birth: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'] },
    ],
    [{ date_of_birth: '2999-01-01' }, { date_of_birth: ['Date of birth cannot be in the future.'] }],
    [{ phone: '12' }, { phone: ['Enter a valid phone number.'] }],
    [{ language_code: 'xx' }, { language_code: ['"xx" is not a valid choice.'] }],
    [{ attributes: ['a'] }, { attributes: ['Expected a dictionary of items.'] }],
    [
      { attributes: { $where: 1 } },
      { attributes: ['Keys may not start with "$" or contain ".": attributes.$where.'] },
    ],
    [
      { attributes: { a: { 'b.c': 1 } } },
      { attributes: ['Keys may not start with "$" or contain ".": attributes.a.b.c.'] },
    ],
    [
      { attributes: { blob: 'x'.repeat(17_000) } },
      { attributes: ['Ensure attributes take no more than 16384 bytes.'] },
    ],
    [{ first_name: null }, { first_name: ['This field may not be null.'] }],
    [
      { avatar: 'http://example.com/a.png' },
      { avatar: ['Send an image as multipart/form-data, or null to remove it.'] },
    ],
  ])('when PATCH sends %j, then 400 %j', async (body, errors) => {
    const response = await client.patch(PROFILE, body);

    expect(response.status).toBe(400);
    expect(response.body).toEqual(errors);
  });

  test('when a phone number is given in national or spaced form, then it is stored in E.164', async () => {
    const response = await client.patch(PROFILE, { phone: '0532 123 45 67' });

    expect(response.status).toBe(200);
    expect(response.body.phone).toBe('+905321234567');
  });

  test('when another user already has the phone number, then 400 while the validator is active', async () => {
    const other = await harness.signUp();

    const response = await other.client.patch(PROFILE, { phone: '+905321234567' });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ phone: ['A user with this phone number already exists.'] });
  });

  test('when the body is malformed JSON, too large, or not an object, then 400/413, never 5xx', async () => {
    const malformed = await client.request('PATCH', PROFILE, undefined, {
      raw: { body: '{"first_name": "A",', contentType: 'application/json' },
    });
    const tooLarge = await client.request('PATCH', PROFILE, undefined, {
      raw: { body: JSON.stringify({ first_name: 'x'.repeat(120_000) }), contentType: 'application/json' },
    });
    const notObject = await client.request('PATCH', PROFILE, undefined, {
      raw: { body: '[1, 2]', contentType: 'application/json' },
    });

    expect(malformed.status).toBe(400);
    expect(String(malformed.body.detail)).toMatch(/^JSON parse error/);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ detail: 'Request body is too large.' });
    expect(notObject.status).toBe(400);
    expect(notObject.body).toEqual({ non_field_errors: ['Invalid data. Expected a dictionary.'] });
  });

  test('when an image is uploaded as multipart, then the avatar URL serves the same bytes', async () => {
    const response = await client.request('PATCH', PROFILE, undefined, {
      form: imageForm(PNG, { first_name: 'Pixel', sms_allowed: 'true' }),
    });

    expect(response.status).toBe(200);
    expectContractBody(PROFILE, 'patch', 200, response.body);
    expect(response.body).toMatchObject({ first_name: 'Pixel', sms_allowed: true });
    const avatarUrl = String(response.body.avatar);
    expect(avatarUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\/avatars\/\d+\/[a-f0-9]{64}\.png$/);
    const image = await fetch(avatarUrl);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);
  });

  test('when the upload is not an image whatever its name says, then 400 and the avatar stays', async () => {
    const before = (await client.get(PROFILE)).body.avatar;

    const response = await client.request('PATCH', PROFILE, undefined, {
      form: imageForm(Buffer.from('<?php echo "hi"; ?>'), {}, 'innocent.png'),
    });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ avatar: ['Upload a valid image: PNG, JPEG or WebP.'] });
    expect((await client.get(PROFILE)).body.avatar).toBe(before);
  });

  test('when the image is larger than 2 MB, then 400', async () => {
    const huge = Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]);

    const response = await client.request('PATCH', PROFILE, undefined, { form: imageForm(huge) });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ avatar: ['The image may not exceed 2 MB.'] });
  });

  test('when avatar null is sent as JSON, then the avatar is removed', async () => {
    const response = await client.patch(PROFILE, { avatar: null });

    expect(response.status).toBe(200);
    expect(response.body.avatar).toBeNull();
  });

  test('when USER_REQUIRED_FIELDS names an empty field, then 400 says it is required', async () => {
    await harness.setSetting('USER_REQUIRED_FIELDS', ['date_of_birth', 'phone']);
    try {
      const response = await client.patch(PROFILE, { date_of_birth: null });

      expect(response.status).toBe(400);
      expect(response.body).toEqual({ date_of_birth: ['This field is required.'] });
    } finally {
      await harness.setSetting('USER_REQUIRED_FIELDS', []);
    }
  });

  test('when profile updates exceed the profile-update rate, then 429 with Retry-After', async () => {
    const { client: busy } = await harness.signUp();
    await harness.setSetting('THROTTLING_SETTINGS', { 'profile-update': '3/min' });
    try {
      const statuses: number[] = [];
      let last;
      for (let index = 0; index < 4; index += 1) {
        last = await busy.patch(PROFILE, { first_name: `n${index}` });
        statuses.push(last.status);
      }

      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(String(last!.body.detail)).toMatch(
        /^Request was throttled\. Expected available in \d+ seconds\.$/,
      );
    } finally {
      await harness.setSetting('THROTTLING_SETTINGS', {});
    }
  });
});
