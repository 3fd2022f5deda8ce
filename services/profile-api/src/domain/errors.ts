import { AppError } from '@app/service-kit';

/**
 * The errors profile-api's domain raises: a code, a message for the log and, where a caller can
 * act on them, details. How a code is answered (status, body, headers) is the entry point's
 * business: entry-points/http/error-mapping.ts.
 */
export type FieldErrors = Record<string, string[]>;

export const FIELD_ERROR_CODES = [
  'validation-failed',
  'email-taken',
  'phone-taken',
  'invalid-credentials',
  'invalid-image',
] as const;
export type FieldErrorCode = (typeof FIELD_ERROR_CODES)[number];

export type DomainErrorCode =
  FieldErrorCode | 'not-authenticated' | 'throttled' | 'update-contention' | 'sms-unavailable';

/** Field errors travel as `details.fields`; the seconds to wait before retrying as `details.retryAfterSeconds`. */
export interface DomainErrorDetails {
  fields?: FieldErrors;
  retryAfterSeconds?: number;
}

function domainError(
  code: DomainErrorCode,
  message: string,
  details: DomainErrorDetails = {},
  cause?: unknown,
): AppError {
  return new AppError(code, message, { details: { ...details }, cause });
}

export function notAuthenticated(): AppError {
  return domainError('not-authenticated', 'no valid session');
}

export function fieldErrors(
  fields: FieldErrors,
  code: FieldErrorCode = 'validation-failed',
  message = 'request failed validation',
): AppError {
  return domainError(code, message, { fields });
}

export function fieldError(
  field: string,
  message: string,
  code: FieldErrorCode = 'validation-failed',
): AppError {
  return fieldErrors({ [field]: [message] }, code, message);
}

export function throttled(retryAfterSeconds: number): AppError {
  return domainError('throttled', 'request throttled', { retryAfterSeconds });
}

export function updateContention(): AppError {
  return domainError('update-contention', 'too many concurrent updates of one profile');
}

export function smsUnavailable(retryAfterSeconds: number, cause: unknown): AppError {
  return domainError(
    'sms-unavailable',
    'the SMS gateway did not accept the message',
    { retryAfterSeconds },
    cause,
  );
}
