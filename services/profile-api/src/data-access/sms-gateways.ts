import CircuitBreaker from 'opossum';
import type { Logger } from '@app/service-kit';
import { smsUnavailable } from '../domain/errors.ts';
import type { SmsSender } from '../domain/ports.ts';
import type { SmsOutcome } from '../service-metrics.ts';

export interface HttpSmsGatewayOptions {
  url: string;
  timeoutMs: number;
  logger: Logger;
  /** Each message's outcome, for the SMS metric. */
  onOutcome?: (outcome: SmsOutcome) => void;
}

const BREAKER_RESET_SECONDS = 10;

class SmsRejectedError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`SMS gateway answered ${status}`);
    this.status = status;
  }
}

/** The gateway refused this message (a 4xx other than 429), as opposed to being unavailable. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof SmsRejectedError && error.status >= 400 && error.status < 500 && error.status !== 429
  );
}

/**
 * POSTs `{to, text}` to the gateway. Each call is cancelled by its own AbortSignal at the timeout,
 * and one breaker per process stops hammering a gateway that is down.
 */
export function createHttpSmsGateway({
  url,
  timeoutMs,
  logger,
  onOutcome,
}: HttpSmsGatewayOptions): SmsSender & {
  shutdown(): void;
} {
  const post = async (to: string, text: string): Promise<void> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to, text }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new SmsRejectedError(response.status);
  };
  const breaker = new CircuitBreaker(post, {
    timeout: false,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    resetTimeout: BREAKER_RESET_SECONDS * 1000,
    // A 4xx means this message was refused, not that the gateway is unhealthy.
    errorFilter: isRefusal,
  });
  breaker.on('open', () => logger.warn('SMS gateway circuit opened'));
  breaker.on('close', () => logger.info('SMS gateway circuit closed'));

  return {
    async send(to, text) {
      try {
        await breaker.fire(to, text);
        onOutcome?.('sent');
      } catch (error) {
        onOutcome?.(isRefusal(error) ? 'refused' : 'unavailable');
        // Worth a retry once the breaker may have closed again.
        throw smsUnavailable(BREAKER_RESET_SECONDS, error);
      }
    },
    shutdown: () => breaker.shutdown(),
  };
}

/** For local development: writes SMS to the log; in production mode the text (the code) is withheld. */
export function createLogSmsGateway(logger: Logger, production: boolean): SmsSender {
  return {
    async send(to, text) {
      if (production) logger.info({ sms: { to } }, 'SMS (text withheld in production)');
      else logger.info({ sms: { to, text } }, 'SMS');
    },
  };
}
