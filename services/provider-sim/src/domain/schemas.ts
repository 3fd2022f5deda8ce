import Joi from 'joi';
import type { FaultKnobs } from './faults.ts';
import type { JsonObject } from './loyalty-ledger.ts';

export const E164 = /^\+[1-9]\d{1,14}$/;
export const E164_MESSAGE = 'must be an E.164 phone number such as +905551112233';

export interface SmsRequest {
  to: string;
  text: string;
}

export const smsRequestSchema = Joi.object<SmsRequest>({
  to: Joi.string()
    .pattern(E164)
    .required()
    .messages({ 'string.pattern.base': `{{#label}} ${E164_MESSAGE}` }),
  text: Joi.string().max(1000).required(),
}).required();

/** `to` arrives already normalized (see normalizePhoneQuery). */
export const smsListQuerySchema = Joi.object<{ to: string }>({
  to: Joi.string()
    .pattern(E164)
    .required()
    .messages({
      'string.pattern.base': `{{#label}} ${E164_MESSAGE}`,
      'string.empty': `{{#label}} ${E164_MESSAGE}`,
    }),
});

/** Any profile fields: the simulator stores what it is given, it only insists on an object. */
export const customerPayloadSchema = Joi.object<JsonObject>().unknown(true).required();

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** setTimeout overflows past 2^31-1 ms; ten minutes is far beyond any useful simulated latency. */
export const MAX_LATENCY_MS = 600_000;

export const faultPatchSchema = Joi.object<Partial<FaultKnobs>>({
  latency_ms: Joi.number().integer().min(0).max(MAX_LATENCY_MS),
  error_rate: Joi.number().min(0).max(1),
  status: Joi.number().integer().min(400).max(599),
  down: Joi.boolean(),
}).required();
