import { AppError } from '@app/service-kit';
import { fromDomainError } from '../src/entry-points/http/error-mapping.ts';
import {
  fieldError,
  fieldErrors,
  notAuthenticated,
  outboxFull,
  smsUnavailable,
  throttled,
  updateContention,
} from '../src/domain/errors.ts';

function answerOf(error: AppError) {
  const mapped = fromDomainError(error);
  if (!mapped) throw new Error(`${error.code} is not mapped`);
  return { status: mapped.status, body: mapped.body, headers: mapped.headers };
}

// The domain raises codes and details; the HTTP answers below are the ones the API has always given.
describe('domain errors over HTTP', () => {
  test('when the domain raises an error, then it carries no HTTP status, body or headers of its own', () => {
    for (const error of [notAuthenticated(), throttled(7), updateContention(), fieldError('x', 'y')]) {
      expect({ status: error.status, body: error.body, headers: error.headers }).toEqual({
        status: 500,
        body: undefined,
        headers: {},
      });
    }
  });

  test.each([
    ['validation-failed', fieldErrors({ first_name: ['This field is required.'], phone: ['Bad.'] })],
    [
      'email-taken',
      fieldError('email', 'A user is already registered with this e-mail address.', 'email-taken'),
    ],
    ['phone-taken', fieldError('phone', 'A user with this phone number already exists.', 'phone-taken')],
    ['invalid-credentials', fieldError('non_field_errors', 'Unable to log in.', 'invalid-credentials')],
    ['invalid-image', fieldError('avatar', 'Upload a valid image.', 'invalid-image')],
  ])('when a %s error has field errors, then 400 with exactly those fields', (_code, error) => {
    expect(answerOf(error)).toEqual({ status: 400, body: error.details.fields, headers: {} });
  });

  test('when no session is valid, then 401 with DRF detail', () => {
    expect(answerOf(notAuthenticated())).toEqual({
      status: 401,
      body: { detail: 'Authentication credentials were not provided.' },
      headers: {},
    });
  });

  test('when a request is throttled, then 429 with the seconds in detail and Retry-After', () => {
    expect(answerOf(throttled(42))).toEqual({
      status: 429,
      body: { detail: 'Request was throttled. Expected available in 42 seconds.' },
      headers: { 'Retry-After': '42' },
    });
  });

  test('when a profile keeps losing to other writers, then 409 with DRF detail', () => {
    expect(answerOf(updateContention())).toEqual({
      status: 409,
      body: { detail: 'The profile is being changed by another request. Try again.' },
      headers: {},
    });
  });

  test('when the SMS gateway is unavailable, then 503 with Retry-After and the cause kept for the log', () => {
    const cause = new Error('breaker open');
    const mapped = fromDomainError(smsUnavailable(10, cause))!;

    expect({ status: mapped.status, body: mapped.body, headers: mapped.headers }).toEqual({
      status: 503,
      body: { detail: 'The verification code could not be sent. Try again later.' },
      headers: { 'Retry-After': '10' },
    });
    expect(mapped.cause).toBe(cause);
    expect(mapped.code).toBe('sms-unavailable');
  });

  test('when a user’s outbox is full, then 503 with a detail and Retry-After', () => {
    expect(answerOf(outboxFull(5))).toEqual({
      status: 503,
      body: {
        detail: 'Profile changes are paused while earlier changes wait to be delivered. Try again later.',
      },
      headers: { 'Retry-After': '5' },
    });
  });

  test('when an error is not the domain’s, then it is left to its raiser’s own status', () => {
    expect(fromDomainError(new AppError('csrf-failed', 'x', { status: 403 }))).toBeUndefined();
    // The settings API answers its own 401, with WWW-Authenticate, under the same code.
    expect(fromDomainError(new AppError('not-authenticated', 'x', { status: 401 }))).toBeUndefined();
    expect(fromDomainError(new Error('boom'))).toBeUndefined();
  });
});
