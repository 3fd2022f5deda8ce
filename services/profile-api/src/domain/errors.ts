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
  | FieldErrorCode
  | 'not-authenticated'
  | 'throttled'
  | 'update-contention'
  | 'sms-unavailable'
  | 'outbox-full';

/** Field errors travel as `details.fields`; the seconds to wait before retrying as `details.retryAfterSeconds`. */
// A type, not an interface: it must fit AppError's Record<string, unknown>.
export type DomainErrorDetails = {
  fields?: FieldErrors;
  retryAfterSeconds?: number;
};

/**
 * An AppError raised by the domain: its own type, so the HTTP mapping never mistakes an error an
 * entry point raised with a status of its own (say, the settings API's 401) for one of these.
 */
export class DomainError extends AppError {
  override name = 'DomainError';
  declare readonly code: DomainErrorCode;
  declare readonly details: DomainErrorDetails;
}

function domainError(
  code: DomainErrorCode,
  message: string,
  details: DomainErrorDetails = {},
  cause?: unknown,
): DomainError {
  return new DomainError(code, message, { details: { ...details }, cause });
}

export function notAuthenticated(): DomainError {
  return domainError('not-authenticated', 'no valid session');
}

export function fieldErrors(
  fields: FieldErrors,
  code: FieldErrorCode = 'validation-failed',
  message = 'request failed validation',
): DomainError {
  return domainError(code, message, { fields });
}

export function fieldError(
  field: string,
  message: string,
  code: FieldErrorCode = 'validation-failed',
): DomainError {
  return fieldErrors({ [field]: [message] }, code, message);
}

export function throttled(retryAfterSeconds: number): DomainError {
  return domainError('throttled', 'request throttled', { retryAfterSeconds });
}

export function updateContention(): DomainError {
  return domainError('update-contention', 'too many concurrent updates of one profile');
}

export function smsUnavailable(retryAfterSeconds: number, cause: unknown): DomainError {
  return domainError(
    'sms-unavailable',
    'the SMS gateway did not accept the message',
    { retryAfterSeconds },
    cause,
  );
}

/** The user's unpublished events reached their cap (Kafka is away): nothing was written. */
export function outboxFull(retryAfterSeconds: number): DomainError {
  return domainError('outbox-full', "the user's outbox of unpublished events is full", {
    retryAfterSeconds,
  });
}
