import { coerceFormFields, createProfileRules } from '../src/domain/profile-schema.ts';
import { AppError } from '@app/service-kit';

const rules = createProfileRules({ languageCodes: ['en', 'tr'], defaultPhoneRegion: 'TR' });

function errorsOf(run: () => unknown): Record<string, string[]> {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.details.fields as Record<string, string[]>;
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('profile rules', () => {
  test('when PATCH carries read-only fields, then they are dropped and the rest is kept', () => {
    const { changes } = rules.validate(
      { id: 1, email: 'x@example.com', date_joined: 'x', genders: [], first_name: 'Ada' },
      { partial: true, withLoyalty: false },
    );

    expect(changes).toEqual({ first_name: 'Ada' });
  });

  test('when a phone number is national or spaced, then it is normalised to E.164', () => {
    const { changes } = rules.validate({ phone: '0 (532) 123 45 67' }, { partial: true, withLoyalty: false });

    expect(changes.phone).toBe('+905321234567');
  });

  test('when unknown fields or code and resend come to the plain profile endpoint, then they are dropped', () => {
    const { changes } = rules.validate(
      { code: '123456', resend: true, nickname: 'ada', first_name: 'Ada', attributes: { nickname: 'x' } },
      { partial: true, withLoyalty: false },
    );

    expect(changes).toEqual({ first_name: 'Ada', attributes: { nickname: 'x' } });
  });

  test('when an attributes key holds a NUL character, then it is refused (BSON keys cannot hold one)', () => {
    expect(
      errorsOf(() =>
        rules.validate({ attributes: { a: [{ 'b\u0000': 1 }] } }, { partial: true, withLoyalty: false }),
      ),
    ).toEqual({ attributes: ['Keys may not contain the NUL character: "attributes.a[0].b\\u0000".'] });
  });

  test('when attributes nest 32 levels, then they pass; one more, then they are refused', () => {
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    const patch = { partial: true, withLoyalty: false };

    expect(rules.validate({ attributes: { x: nested(31) } }, patch).changes.attributes).toEqual({
      x: nested(31),
    });
    expect(errorsOf(() => rules.validate({ attributes: { x: nested(32) } }, patch))).toEqual({
      attributes: ['Ensure attributes nest no more than 32 levels deep.'],
    });
  });

  test('when the loyalty variant gets a code, then it is returned apart from the changes', () => {
    const result = rules.validate({ code: '012345', first_name: 'A' }, { partial: true, withLoyalty: true });

    expect(result).toEqual({ changes: { first_name: 'A' }, code: '012345', resend: false });
  });

  test('when a code is not six digits, then 400 on code', () => {
    expect(errorsOf(() => rules.validate({ code: '12ab' }, { partial: true, withLoyalty: true }))).toEqual({
      code: ['Enter the 6-digit code sent by SMS.'],
    });
  });

  test('when PUT misses the full representation, then every missing writable field is required', () => {
    const errors = errorsOf(() =>
      rules.validate({ first_name: 'A' }, { partial: false, withLoyalty: false }),
    );

    expect(Object.keys(errors).sort()).toEqual(
      [
        'attributes',
        'call_allowed',
        'email_allowed',
        'gender',
        'language_code',
        'last_name',
        'phone',
        'sms_allowed',
        'whatsapp_allowed',
      ].sort(),
    );
    expect(new Set(Object.values(errors).flat())).toEqual(new Set(['This field is required.']));
  });

  test('when a date is the 29th of February of a leap year, then it is accepted; of another year, rejected', () => {
    expect(
      rules.validate({ date_of_birth: '2000-02-29' }, { partial: true, withLoyalty: false }).changes,
    ).toEqual({
      date_of_birth: '2000-02-29',
    });
    expect(
      errorsOf(() => rules.validate({ date_of_birth: '2001-02-29' }, { partial: true, withLoyalty: false })),
    ).toEqual({
      date_of_birth: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
    });
  });

  test('when a multipart form sends strings, then booleans, empty nullables and attributes JSON are coerced', () => {
    expect(
      coerceFormFields({
        sms_allowed: 'true',
        call_allowed: '',
        attributes: '{"a":1}',
        first_name: 'Ada',
        phone: '',
      }),
    ).toEqual({
      sms_allowed: true,
      call_allowed: null,
      attributes: { a: 1 },
      first_name: 'Ada',
      phone: null,
    });
  });
});
