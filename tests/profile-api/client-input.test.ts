import { expectContractBody } from '../support/contract.ts';
import { ApiClient } from '../support/api-client.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

const PROFILE = '/users/profile/';
const LOYALTY = '/users/profile-with-loyalty/';
const WRITES = [
  ['PUT', PROFILE],
  ['PATCH', PROFILE],
  ['PUT', LOYALTY],
  ['PATCH', LOYALTY],
] as const;

// 1x1 PNG
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * Issue #10: nothing a client can send is a server error, and clients written for the seed's
 * Django REST framework server work unchanged (unknown fields, echoed representations, tokens).
 */
describe('profile-api: whatever a client sends', () => {
  let harness: ProfileApiHarness;
  let phoneSuffix = 10;

  beforeAll(async () => {
    harness = await startProfileApiHarness('client_input');
  });

  afterAll(async () => {
    await harness.stop();
  });

  /** A new user's login answer `key`, used only as `Authorization: Token <key>` (no cookies). */
  async function tokenClient(): Promise<{ client: ApiClient; key: string; headers: Record<string, string> }> {
    const { email, password } = await harness.signUp();
    const login = await harness.client().post('/users/login/', { email, password });
    const key = String(login.body.key);
    return { client: new ApiClient(harness.api.url), key, headers: { authorization: `Token ${key}` } };
  }

  describe('no 5xx', () => {
    test.each(['/users/login/', '/users/registration/'])(
      'when POST %s comes without a body, then 400 lists the required fields',
      async (path) => {
        const noBody = await harness.client().post(path);
        const emptyJson = await harness
          .client()
          .post(path, undefined, { raw: { body: '', contentType: 'application/json' } });

        for (const response of [noBody, emptyJson]) {
          expect(response.status).toBe(400);
          expect(response.body).toMatchObject({
            email: ['This field is required.'],
            password: ['This field is required.'],
          });
        }
      },
    );

    test.each(WRITES)(
      'when %s %s sends multipart/form-data without a valid boundary, then 400 with a parse error detail',
      async (method, path) => {
        const { client } = await harness.signUp();
        const form = '--x\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nAda\r\n--x--\r\n';

        const noBoundary = await client.request(method, path, undefined, {
          raw: { body: form, contentType: 'multipart/form-data' },
        });
        const truncated = await client.request(method, path, undefined, {
          raw: { body: form.slice(0, 30), contentType: 'multipart/form-data; boundary=x' },
        });

        expect(noBoundary.status).toBe(400);
        expect(noBoundary.body).toEqual({
          detail: 'Multipart form parse error - Multipart: Boundary not found',
        });
        expect(truncated.status).toBe(400);
        expect(String(truncated.body.detail)).toMatch(/^Multipart form parse error - /);
      },
    );

    test('when attributes hold nested arrays, objects in arrays and empty arrays, then 200 and they round-trip unchanged', async () => {
      const { client } = await harness.signUp();
      const attributes = {
        matrix: [
          [1, 2],
          [3, [4, [5, 6]]],
        ],
        sizes: [{ tags: ['a', ['b', ['c']]] }, []],
        empty: [[]],
      };

      const response = await client.patch(PROFILE, { attributes });

      expect(response.status).toBe(200);
      expect(response.body.attributes).toEqual(attributes);
      expect((await client.get(LOYALTY)).body.attributes).toEqual(attributes);
    });

    test('when an attributes key holds a NUL character at any depth, then 400 names it, never 5xx', async () => {
      const { client } = await harness.signUp();

      const top = await client.patch(PROFILE, { attributes: { 'a\u0000b': 1 } });
      const nested = await client.put(LOYALTY, {
        ...(await client.get(LOYALTY)).body,
        attributes: { list: [{ 'x\u0000': true }] },
      });

      expect(top.status).toBe(400);
      expect(top.body).toEqual({
        attributes: ['Keys may not contain the NUL character: "attributes.a\\u0000b".'],
      });
      expect(nested.status).toBe(400);
      expect(nested.body).toEqual({
        attributes: ['Keys may not contain the NUL character: "attributes.list[0].x\\u0000".'],
      });
    });

    test('when attributes nest deeper than 32 levels (MongoDB stops at 100), then 400 says so', async () => {
      const { client } = await harness.signUp();
      const nested = (depth: number) => `{"attributes": {"x": ${'['.repeat(depth)}${']'.repeat(depth)}}}`;

      const responses = [];
      for (const depth of [32, 20_000]) {
        responses.push(
          await client.request('PATCH', PROFILE, undefined, {
            raw: { body: nested(depth), contentType: 'application/json' },
          }),
        );
      }

      for (const response of responses) {
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          attributes: ['Ensure attributes nest no more than 32 levels deep.'],
        });
      }
    });

    test('when the served /openapi.json is read, then every profile write lists each error it can answer with a DRF body', async () => {
      const response = await fetch(`${harness.api.url}/openapi.json`);
      const document = (await response.json()) as {
        paths: Record<string, Record<string, { responses: Record<string, Record<string, unknown>> }>>;
        components: { responses: Record<string, { content?: unknown; headers?: Record<string, unknown> }> };
      };

      for (const [method, path] of WRITES) {
        const responses = document.paths[path]![method.toLowerCase()]!.responses;
        for (const status of ['400', '401', '403', '409', '413', '415', '429', '503']) {
          const answer = responses[status] as { $ref?: string; content?: unknown } | undefined;
          const resolved = answer?.$ref
            ? document.components.responses[answer.$ref.split('/').pop()!]
            : answer;
          expect({ method, path, status, content: resolved?.content !== undefined }).toEqual({
            method,
            path,
            status,
            content: true,
          });
        }
      }
      expect(document.components.responses.Throttled!.headers).toHaveProperty('Retry-After');
      expect(document.components.responses.Overloaded!.headers).toHaveProperty('Retry-After');
    });
  });

  describe('seed-compatible clients', () => {
    test('when unknown top-level fields are sent, then they are ignored and the known ones applied', async () => {
      const { client } = await harness.signUp();

      for (const path of [PROFILE, LOYALTY]) {
        const response = await client.patch(path, { nickname: 'ada', is_staff: true, first_name: 'Augusta' });

        expect(response.status).toBe(200);
        expectContractBody(path, 'patch', 200, response.body);
        expect(response.body.first_name).toBe('Augusta');
        expect(response.body).not.toHaveProperty('nickname');
        expect(response.body).not.toHaveProperty('is_staff');
      }
    });

    test('when attributes carry a "$" or "." key next to unknown fields, then 400 still refuses it', async () => {
      const { client } = await harness.signUp();

      const response = await client.patch(PROFILE, { nickname: 'ada', attributes: { 'a.b': 1 } });

      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        attributes: ['Keys may not start with "$" or contain ".": attributes.a.b.'],
      });
    });

    test.each(WRITES)(
      'when %s %s sends back the unchanged GET representation, avatar URL included, then 200 and nothing changes',
      async (method, path) => {
        const { client } = await harness.signUp();
        const form = new FormData();
        form.append('avatar', new Blob([new Uint8Array(PNG)], { type: 'image/png' }), 'avatar.png');
        expect((await client.request('PATCH', PROFILE, undefined, { form })).status).toBe(200);
        phoneSuffix += 1;
        const phone = `+9053212345${phoneSuffix}`;
        expect((await client.patch(PROFILE, { phone, attributes: { a: [1, [2]] } })).status).toBe(200);
        const before = (await client.get(path)).body;
        expect(before.avatar).toMatch(/\/media\/avatars\/\d+\/[a-f0-9]{64}\.png$/);

        const response = await client.request(method, path, before);

        expect(response.status).toBe(200);
        expect(response.body).toEqual(before);
        expect((await client.get(path)).body).toEqual(before);
      },
    );

    test('when the login key is sent as Authorization: Token, then every profile operation answers 200 without cookies or CSRF', async () => {
      const { client, headers } = await tokenClient();

      for (const path of [PROFILE, LOYALTY]) {
        const read = await client.get(path, { headers });
        expect(read.status).toBe(200);
        expectContractBody(path, 'get', 200, read.body);

        const put = await client.put(path, { ...read.body, last_name: `put ${path}` }, { headers });
        const patch = await client.patch(path, { first_name: `patch ${path}` }, { headers });

        expect([put.status, patch.status]).toEqual([200, 200]);
        expect(patch.body).toMatchObject({ last_name: `put ${path}`, first_name: `patch ${path}` });
      }
      expect(client.cookie('sessionid')).toBeUndefined();
    });

    test('when a token-authenticated client logs out, then its key is revoked and answers 401 "Invalid token."', async () => {
      const { client, headers } = await tokenClient();

      const logout = await client.post('/users/logout/', undefined, { headers });
      const after = await client.get(PROFILE, { headers });

      expect(logout.status).toBe(200);
      expect(after.status).toBe(401);
      expect(after.body).toEqual({ detail: 'Invalid token.' });
    });

    test('when a wrong or malformed key is sent, then 401 with DRF detail and a Token challenge', async () => {
      const { headers } = await tokenClient();
      const client = harness.client();

      const wrong = await client.get(PROFILE, { headers: { authorization: 'Token not-a-key' } });
      const bare = await client.patch(
        PROFILE,
        { first_name: 'Eve' },
        { headers: { authorization: 'Token' } },
      );
      const spaced = await client.get(LOYALTY, { headers: { authorization: `${headers.authorization} x` } });

      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ detail: 'Invalid token.' });
      expect(wrong.headers.get('www-authenticate')).toBe('Token');
      expect(bare.status).toBe(401);
      expect(bare.body).toEqual({ detail: 'Invalid token header. No credentials provided.' });
      expect(spaced.status).toBe(401);
      expect(spaced.body).toEqual({
        detail: 'Invalid token header. Token string should not contain spaces.',
      });
    });

    test('when the served /openapi.json is read, then it declares the cookie session and the Token scheme', async () => {
      const document = (await (await fetch(`${harness.api.url}/openapi.json`)).json()) as {
        security: unknown[];
        components: { securitySchemes: Record<string, unknown> };
      };

      expect(document.security).toEqual([{ SessionCookie: [] }, { TokenAuth: [] }]);
      expect(document.components.securitySchemes.TokenAuth).toMatchObject({
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
      });
    });
  });
});
