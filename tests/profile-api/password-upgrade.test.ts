import { hashPassword } from '../../services/profile-api/src/domain/password.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

/** The parameters profile-api hashed with before N was raised to 2^17. */
const LEGACY = { N: 16_384, r: 8, p: 1 };

describe('profile-api: password hashes are upgraded at login', () => {
  let harness: ProfileApiHarness;

  beforeAll(async () => {
    harness = await startProfileApiHarness('password');
  });

  afterAll(async () => {
    await harness?.stop();
  });

  async function registered(): Promise<{ id: string; email: string; password: string }> {
    const { client, email, password } = await harness.signUp();
    const profile = await client.get('/users/profile/');
    return { id: String(profile.body.id), email, password };
  }
  const storedHash = async (id: string) =>
    (await harness.storedDocument('users', id))?.password_hash as string;
  const plantHash = async (id: string, hash: string) => {
    await (
      await harness.database()
    )
      .collection<{ _id: string }>('users')
      .updateOne({ _id: id }, { $set: { password_hash: hash } });
  };

  test('when a user registers, then the stored hash records scrypt at N=2^17, r=8, p=1', async () => {
    const { id } = await registered();

    expect(await storedHash(id)).toMatch(/^scrypt\$131072\$8\$1\$/);
  });

  test('when a user with an old-parameter hash logs in, then the login succeeds and the hash is replaced by one at today’s parameters that still verifies', async () => {
    const { id, email, password } = await registered();
    const legacy = await hashPassword(password, LEGACY);
    await plantHash(id, legacy);

    const login = await harness.client().post('/users/login/', { email, password });
    const upgraded = await storedHash(id);
    const again = await harness.client().post('/users/login/', { email, password });

    expect(login.status).toBe(200);
    expect(upgraded).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(upgraded).not.toBe(legacy);
    expect(again.status).toBe(200);
    expect(await storedHash(id)).toBe(upgraded);
  });

  test('when a login with an old-parameter hash fails, then the hash is left as it was', async () => {
    const { id, email, password } = await registered();
    const legacy = await hashPassword(password, LEGACY);
    await plantHash(id, legacy);

    const login = await harness.client().post('/users/login/', { email, password: 'not the password' });

    expect(login.status).toBe(400);
    expect(await storedHash(id)).toBe(legacy);
  });
});
