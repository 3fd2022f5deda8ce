import { AppError } from '@app/service-kit';
import type Joi from 'joi';

const NON_FIELD = 'non_field_errors';
const ROOT_MESSAGE = 'Request body must be a JSON object.';

/** joi details → `{"field": ["message", ...]}`; problems with the body itself go under non_field_errors. */
export function toFieldErrors(error: Joi.ValidationError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const detail of error.details) {
    const atRoot = detail.path.length === 0;
    const field = atRoot ? NON_FIELD : detail.path.join('.');
    const message = atRoot && detail.type !== 'object.unknown' ? ROOT_MESSAGE : detail.message;
    (fields[field] ??= []).push(message);
  }
  return fields;
}

/** Validates strictly (no coercion: JSON already carries types) and reports every problem at once. */
export function validate<T>(schema: Joi.Schema<T>, value: unknown): T {
  const result = schema.validate(value, {
    abortEarly: false,
    convert: false,
    errors: { wrap: { label: false } },
  });
  if (result.error) {
    throw new AppError('invalid-input', 'request validation failed', {
      status: 400,
      body: toFieldErrors(result.error),
    });
  }
  return result.value;
}

export function badRequest(detail: string, code = 'bad-request'): AppError {
  return new AppError(code, detail, { status: 400, body: { detail } });
}

export function fieldError(field: string, message: string): AppError {
  return new AppError('invalid-input', 'request validation failed', {
    status: 400,
    body: { [field]: [message] },
  });
}
