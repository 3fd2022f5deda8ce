import { hashPassword, needsRehash, verifyPassword } from '../src/domain/password.ts';

const LEGACY = { N: 16_384, r: 8, p: 1 };

describe('password hashing', () => {
  test('when a password is hashed, then scrypt runs at N=2^17, r=8, p=1 and the hash records those parameters', async () => {
    const stored = await hashPassword('a long secret');

    expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('a long secret', stored)).toBe(true);
    expect(await verifyPassword('another secret', stored)).toBe(false);
    expect(needsRehash(stored)).toBe(false);
  });

  test('when a hash was made with older parameters, then it still verifies and is marked for re-hashing', async () => {
    const legacy = await hashPassword('a long secret', LEGACY);

    expect(legacy.startsWith('scrypt$16384$8$1$')).toBe(true);
    expect(await verifyPassword('a long secret', legacy)).toBe(true);
    expect(needsRehash(legacy)).toBe(true);
  });

  test('when a stored hash is malformed, then nothing verifies against it and it is not re-hashed', async () => {
    for (const stored of ['', 'bcrypt$2b$x', 'scrypt$abc$8$1$c2FsdA==$aGFzaA==', 'scrypt$16384$8$1$$']) {
      expect(await verifyPassword('a long secret', stored)).toBe(false);
      expect(needsRehash(stored)).toBe(false);
    }
  });
});
