import { AppError } from '@app/service-kit';

export function notAuthenticated(): AppError {
  return new AppError('not-authenticated', 'no valid session', {
    status: 401,
    body: { detail: 'Authentication credentials were not provided.' },
  });
}

export function fieldError(field: string, message: string, code = 'validation-failed'): AppError {
  return new AppError(code, message, { status: 400, body: { [field]: [message] } });
}
