import type Joi from 'joi';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates the environment against one joi schema at start. Every problem is reported in one
 * line so a misconfigured service refuses to start with a message an operator can act on.
 */
export function loadConfig<T>(schema: Joi.ObjectSchema<T>, env: NodeJS.ProcessEnv = process.env): T {
  const { value, error } = schema.validate(env, {
    abortEarly: false,
    allowUnknown: true,
    stripUnknown: true,
    convert: true,
  });
  if (error) {
    const problems = error.details.map((detail) => detail.message).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  return value;
}
