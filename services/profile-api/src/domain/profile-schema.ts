import Joi from 'joi';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { GENDERS, type ProfileChanges } from './user.ts';
import { validateOrThrow } from './validation-errors.ts';

export interface ProfileRulesOptions {
  languageCodes: string[];
  defaultPhoneRegion: string;
}

export interface ValidatedProfileInput {
  changes: ProfileChanges;
  /** Only on the with-loyalty endpoints. */
  code: string | null;
  resend: boolean;
}

const ATTRIBUTES_MAX_BYTES = 16 * 1024;
/** MongoDB refuses documents nested deeper than 100 levels; attributes sit a few levels down (outbox). */
const ATTRIBUTES_MAX_DEPTH = 32;
const MIN_BIRTH_YEAR = 1900;

/** Fields the representation shows but a client cannot write: dropped silently, as DRF does. */
const READ_ONLY_FIELDS = ['id', 'email', 'date_joined', 'genders'] as const;

/** Full-representation writes (PUT) must carry these; the rest default to their current value. */
const PUT_REQUIRED_FIELDS = [
  'first_name',
  'last_name',
  'email_allowed',
  'sms_allowed',
  'whatsapp_allowed',
  'call_allowed',
  'phone',
  'gender',
  'language_code',
  'attributes',
] as const;

function findUnsafeKey(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnsafeKey(item, `${path}[${index}]`);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) {
      // BSON keys are NUL-terminated: the driver refuses such a key outright (a 500 until refused here).
      if (key.startsWith('$') || key.includes('.') || key.includes('\u0000')) return `${path}.${key}`;
      const found = findUnsafeKey(nested, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** Whether a JSON value nests arrays and objects deeper than `limit`; iterative, so any depth is safe. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * The one place profile field rules live. PUT, PATCH and both loyalty variants validate through
 * `validate`; multipart forms are coerced to JSON types first and then take the same path.
 */
export function createProfileRules({ languageCodes, defaultPhoneRegion }: ProfileRulesOptions) {
  const phone = Joi.string()
    .trim()
    .max(32)
    .custom((value: string, helpers) => {
      try {
        const parsed = parsePhoneNumberWithError(value, defaultPhoneRegion as never);
        if (!parsed.isValid()) return helpers.message({ custom: 'Enter a valid phone number.' });
        return parsed.number;
      } catch {
        return helpers.message({ custom: 'Enter a valid phone number.' });
      }
    });

  const dateOfBirth = Joi.string().custom((value: string, helpers) => {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const date = match ? new Date(`${value}T00:00:00Z`) : undefined;
    if (!match || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
      return helpers.message({
        custom: 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.',
      });
    }
    if (value > todayUtc()) return helpers.message({ custom: 'Date of birth cannot be in the future.' });
    if (Number(match[1]) < MIN_BIRTH_YEAR) {
      return helpers.message({ custom: `Date of birth cannot be before ${MIN_BIRTH_YEAR}.` });
    }
    return value;
  });

  const attributes = Joi.object()
    .unknown(true)
    .custom((value: Record<string, unknown>, helpers) => {
      if (nestedDeeperThan(value, ATTRIBUTES_MAX_DEPTH)) {
        return helpers.message({
          custom: `Ensure attributes nest no more than ${ATTRIBUTES_MAX_DEPTH} levels deep.`,
        });
      }
      const unsafe = findUnsafeKey(value, 'attributes');
      if (unsafe)
        return helpers.message({
          custom: unsafe.includes('\u0000')
            ? `Keys may not contain the NUL character: ${JSON.stringify(unsafe)}.`
            : `Keys may not start with "$" or contain ".": ${unsafe}.`,
        });
      if (Buffer.byteLength(JSON.stringify(value)) > ATTRIBUTES_MAX_BYTES) {
        return helpers.message({
          custom: `Ensure attributes take no more than ${ATTRIBUTES_MAX_BYTES} bytes.`,
        });
      }
      return value;
    });

  const fields = {
    first_name: Joi.string().max(50).allow(''),
    last_name: Joi.string().max(50).allow(''),
    email_allowed: Joi.boolean().strict(),
    sms_allowed: Joi.boolean().strict(),
    whatsapp_allowed: Joi.boolean().strict(),
    call_allowed: Joi.boolean().strict().allow(null),
    phone: phone.allow(null),
    date_of_birth: dateOfBirth.allow(null),
    gender: Joi.string()
      .valid(...GENDERS)
      .allow(null),
    language_code: Joi.string().valid(...languageCodes),
    attributes,
    // A JSON body can only remove the avatar; an image arrives as a multipart file.
    avatar: Joi.valid(null),
  };
  const readOnly = Object.fromEntries(READ_ONLY_FIELDS.map((field) => [field, Joi.any().strip()]));
  const loyaltyFields = {
    code: Joi.string()
      .pattern(/^\d{6}$/)
      .allow(null)
      .messages({ 'string.pattern.base': 'Enter the 6-digit code sent by SMS.' }),
    resend: Joi.boolean().strict(),
  };

  function schemaFor(partial: boolean, withLoyalty: boolean): Joi.ObjectSchema {
    // Unknown top-level fields are dropped, not refused, as DRF serializers do: a client written for
    // the seed's server may send fields this one does not know. (attributes keeps its own keys.)
    const base = Joi.object({ ...fields, ...readOnly, ...(withLoyalty ? loyaltyFields : {}) })
      .required()
      .options({ stripUnknown: { objects: true } });
    return partial ? base : base.fork([...PUT_REQUIRED_FIELDS], (field) => field.required());
  }
  const schemas = {
    put: schemaFor(false, false),
    patch: schemaFor(true, false),
    loyaltyPut: schemaFor(false, true),
    loyaltyPatch: schemaFor(true, true),
  };

  return {
    validate(input: unknown, { partial, withLoyalty }: { partial: boolean; withLoyalty: boolean }) {
      const schema = withLoyalty
        ? partial
          ? schemas.loyaltyPatch
          : schemas.loyaltyPut
        : partial
          ? schemas.patch
          : schemas.put;
      const {
        code = null,
        resend = false,
        ...changes
      } = validateOrThrow<Record<string, unknown>>(schema, input);
      return { changes: changes as ProfileChanges, code: code as string | null, resend: resend as boolean };
    },
  };
}

export type ProfileRules = ReturnType<typeof createProfileRules>;

const BOOLEAN_FORM_FIELDS = new Set([
  'email_allowed',
  'sms_allowed',
  'whatsapp_allowed',
  'call_allowed',
  'resend',
]);
const NULLABLE_FORM_FIELDS = new Set(['call_allowed', 'phone', 'date_of_birth', 'gender', 'code', 'avatar']);

/**
 * multipart/form-data carries only strings: turn them into the JSON types the rules expect,
 * the way DRF's form parsing does, and leave anything unrecognisable for the rules to reject.
 */
export function coerceFormFields(form: Record<string, unknown>): Record<string, unknown> {
  const coerced: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(form)) {
    if (typeof raw !== 'string') {
      coerced[field] = raw;
    } else if (raw === '' && NULLABLE_FORM_FIELDS.has(field)) {
      coerced[field] = null;
    } else if (BOOLEAN_FORM_FIELDS.has(field) && /^(true|false)$/i.test(raw)) {
      coerced[field] = raw.toLowerCase() === 'true';
    } else if (field === 'attributes') {
      try {
        coerced[field] = JSON.parse(raw);
      } catch {
        coerced[field] = raw;
      }
    } else {
      coerced[field] = raw;
    }
  }
  return coerced;
}
