import type Joi from 'joi';
import { fieldErrors, type FieldErrors } from './errors.ts';

const NON_FIELD = 'non_field_errors';

/** joi's error types in the words Django REST framework uses, so clients see familiar messages. */
function messageFor(detail: Joi.ValidationErrorItem): string {
  const { type, context = {} } = detail;
  // joi's own messages start with the quoted label; anything else is a message a schema chose.
  if (!detail.message.startsWith('"')) return detail.message;
  if (context.value === null && type.endsWith('.base')) return 'This field may not be null.';
  switch (type) {
    case 'any.required':
      return 'This field is required.';
    case 'object.unknown':
      return 'Unknown field.';
    case 'string.base':
      return 'Not a valid string.';
    case 'string.empty':
      return 'This field may not be blank.';
    case 'string.max':
      return `Ensure this field has no more than ${context.limit} characters.`;
    case 'string.min':
      return `Ensure this field has at least ${context.limit} characters.`;
    case 'string.email':
      return 'Enter a valid email address.';
    case 'boolean.base':
      return 'Must be a valid boolean.';
    case 'number.base':
    case 'number.integer':
      return 'A valid integer is required.';
    case 'object.base':
      return detail.path.length === 0
        ? 'Invalid data. Expected a dictionary.'
        : 'Expected a dictionary of items.';
    case 'any.only':
      return context.valids?.length === 1 && context.valids[0] === null
        ? 'Send an image as multipart/form-data, or null to remove it.'
        : `"${String(context.value)}" is not a valid choice.`;
    default:
      return detail.message.replace(/^"[^"]*" /, '').replace(/^./, (first) => first.toUpperCase());
  }
}

export function toFieldErrors(error: Joi.ValidationError): FieldErrors {
  const errors: FieldErrors = {};
  for (const detail of error.details) {
    const field =
      detail.type === 'object.unknown' ? String(detail.context?.key) : String(detail.path[0] ?? NON_FIELD);
    const message = messageFor(detail);
    const messages = (errors[field] ??= []);
    if (!messages.includes(message)) messages.push(message);
  }
  return errors;
}

/** Validates with the project's options and throws a DRF-shaped 400 on failure. */
export function validateOrThrow<T>(
  schema: Joi.Schema<T>,
  input: unknown,
  options: Joi.ValidationOptions = {},
): T {
  const { value, error } = schema.validate(input, { abortEarly: false, ...options });
  if (error) throw fieldErrors(toFieldErrors(error));
  return value;
}
