import { loadConfig } from '@app/service-kit';
import Joi from 'joi';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface ProviderSimConfig {
  port: number;
  host: string;
  logLevel: string;
  loyaltyApiKey: string | undefined;
}

interface ProviderSimEnv {
  PORT: number;
  HOST: string;
  LOG_LEVEL: string;
  LOYALTY_API_KEY?: string;
}

const envSchema = Joi.object<ProviderSimEnv>({
  PORT: Joi.number()
    .integer()
    .min(0)
    .max(65535)
    .default(8090)
    .description('TCP port to listen on (0: any free port)'),
  HOST: Joi.string().trim().min(1).default('0.0.0.0').description('Interface to listen on'),
  LOG_LEVEL: Joi.string()
    .valid(...LOG_LEVELS)
    .default('info')
    .description('pino level; per-request lines are logged at debug'),
  LOYALTY_API_KEY: Joi.string()
    .empty('')
    .optional()
    .description('When set, the loyalty API accepts only this bearer key; otherwise any non-empty key'),
});

/** Validated once at start: a bad value stops the simulator with one readable line. */
export function loadProviderSimConfig(env: NodeJS.ProcessEnv = process.env): ProviderSimConfig {
  const value = loadConfig(envSchema, env);
  return {
    port: value.PORT,
    host: value.HOST,
    logLevel: value.LOG_LEVEL,
    loyaltyApiKey: value.LOYALTY_API_KEY,
  };
}
