import { duplicateKeyField } from '../src/data-access/duplicate-key.ts';

describe('duplicateKeyField', () => {
  test('when the server names the key pattern, then that field', () => {
    expect(duplicateKeyField({ code: 11000, keyPattern: { phone_unique: 1 } })).toBe('phone_unique');
  });

  test('when only the message names the index, then the field of that index', () => {
    const message =
      'E11000 duplicate key error collection: db.users index: email_normalized_1 dup key: { email_normalized: "a@b.c" }';

    expect(duplicateKeyField({ code: 11000, message })).toBe('email_normalized');
  });

  test('when the error is not a duplicate key, then undefined', () => {
    expect(duplicateKeyField({ code: 112, keyPattern: { email: 1 } })).toBeUndefined();
    expect(duplicateKeyField(new Error('boom'))).toBeUndefined();
    expect(duplicateKeyField(undefined)).toBeUndefined();
  });
});
