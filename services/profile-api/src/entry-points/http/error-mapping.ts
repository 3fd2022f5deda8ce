import { AppError } from '@app/service-kit';
import { DomainError, type DomainErrorCode, type DomainErrorDetails } from '../../domain/errors.ts';

interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const retryAfter = (details: DomainErrorDetails) => String(details.retryAfterSeconds ?? 1);
const fieldErrors = (details: DomainErrorDetails): HttpAnswer => ({
  status: 400,
  body: { ...details.fields },
});

/** How each domain error is answered over HTTP: the one place its status, body and headers live. */
const ANSWERS: Record<DomainErrorCode, (details: DomainErrorDetails) => HttpAnswer> = {
  'validation-failed': fieldErrors,
  'email-taken': fieldErrors,
  'phone-taken': fieldErrors,
  'invalid-credentials': fieldErrors,
  'invalid-image': fieldErrors,
  'not-authenticated': () => ({
    status: 401,
    body: { detail: 'Authentication credentials were not provided.' },
  }),
  throttled: (details) => ({
    status: 429,
    body: { detail: `Request was throttled. Expected available in ${retryAfter(details)} seconds.` },
    headers: { 'Retry-After': retryAfter(details) },
  }),
  'update-contention': () => ({
    status: 409,
    body: { detail: 'The profile is being changed by another request. Try again.' },
  }),
  'sms-unavailable': (details) => ({
    status: 503,
    body: { detail: 'The verification code could not be sent. Try again later.' },
    headers: { 'Retry-After': retryAfter(details) },
  }),
  'outbox-full': (details) => ({
    status: 503,
    body: {
      detail: 'Profile changes are paused while earlier changes wait to be delivered. Try again later.',
    },
    headers: { 'Retry-After': retryAfter(details) },
  }),
};

/**
 * The HTTP form of a domain error (same code, message and cause, plus status, body and headers);
 * undefined for anything else. Errors the HTTP layer raises itself already carry their status.
 */
export function fromDomainError(error: unknown): AppError | undefined {
  if (!(error instanceof DomainError)) return undefined;
  const { status, body, headers } = ANSWERS[error.code](error.details);
  return new AppError(error.code, error.message, {
    status,
    body,
    headers,
    details: error.details,
    cause: error.cause,
    catastrophic: error.catastrophic,
  });
}
