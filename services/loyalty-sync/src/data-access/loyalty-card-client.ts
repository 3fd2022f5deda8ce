import CircuitBreaker from 'opossum';
import type { Logger } from '@app/service-kit';
import type { BreakerConfig } from '../config.ts';
import { createLoyaltyCardHttp, ProviderAnswerError } from './loyalty-card-http.ts';
import { LoyaltyCallError, type LoyaltyGateway } from '../domain/sync-use-case.ts';

export { customerUrl } from './loyalty-card-http.ts';

export type BreakerState = 'closed' | 'half-open' | 'open';

/** How one call ended, for metrics. */
export type CallOutcome =
  'applied' | 'replayed' | 'rejected' | 'unauthorized' | 'failed' | 'timeout' | 'circuit-open';

export interface LoyaltyCardClient extends LoyaltyGateway {
  state(): BreakerState;
  onStateChange(listener: (state: BreakerState) => void): void;
  /** The provider's last answer refused our API key (401/403) and no call has succeeded since. */
  authBlocked(): boolean;
  /** Stops the breaker's timers; later calls fail as unavailable. */
  shutdown(): void;
}

export interface LoyaltyCardClientOptions {
  breaker: BreakerConfig;
  /** Connections kept to the provider: one per call in flight. */
  maxConnections: number;
  logger: Logger;
  onCall?: (outcome: CallOutcome, seconds: number) => void;
}

/**
 * 401/403: the provider refuses our credentials (a wrong or rotated api_key), not this request.
 * Every call would get the same answer, so it is handled like an outage: the circuit opens and
 * nothing is dead-lettered until a trial call is accepted again.
 */
export function isAuthFailureStatus(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * 4xx other than 408 (timeout), 429 (throttled) and 401/403 (our key) is about this request, not
 * the provider's health.
 */
export function isNonRetryableStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429 && !isAuthFailureStatus(status);
}

// Duck-typed, not instanceof: errors may come from another realm (e.g. under jest).
interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

function asErrorLike(error: unknown): ErrorLike {
  return typeof error === 'object' && error !== null ? (error as ErrorLike) : {};
}

function isTimeout(error: unknown): boolean {
  const { name } = asErrorLike(error);
  return name === 'TimeoutError' || name === 'AbortError';
}

function breakerCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The message, with the cause's code when a wrapper hides it (ECONNREFUSED...). */
function describe(error: unknown): string {
  const { message, cause } = asErrorLike(error);
  if (typeof message !== 'string') return String(error);
  const { code, message: causeMessage } = asErrorLike(cause);
  const detail = typeof code === 'string' ? code : typeof causeMessage === 'string' ? causeMessage : '';
  return detail ? `${message}: ${detail}` : message;
}

/**
 * The loyalty card service's client: pooled keep-alive HTTP, a per-call timeout through an
 * AbortSignal, and one circuit breaker per process. A refused request (4xx other
 * than 408/429/401/403) does not count against the provider's health (errorFilter); a refused
 * API key (401/403) opens the circuit at once.
 */
export function createLoyaltyCardClient({
  breaker: options,
  maxConnections,
  logger,
  onCall,
}: LoyaltyCardClientOptions): LoyaltyCardClient {
  const transport = createLoyaltyCardHttp(maxConnections);
  const breaker = new CircuitBreaker(transport.putCustomer, {
    // The AbortSignal enforces the timeout (from the live setting); opossum's would not cancel the call.
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    resetTimeout: options.resetTimeoutMs,
    rollingCountTimeout: options.rollingWindowMs,
    rollingCountBuckets: 10,
    errorFilter: (error: unknown) =>
      error instanceof ProviderAnswerError && isNonRetryableStatus(error.status),
  });
  const listeners: ((state: BreakerState) => void)[] = [];
  let authBlocked = false;
  // Last time the provider answered a call with anything but a retryable failure.
  let lastAnswerAt = Number.NEGATIVE_INFINITY;
  const state = (): BreakerState => (breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed');
  const notify = (next: BreakerState) => {
    for (const listener of listeners) listener(next);
  };
  breaker.on('open', () => {
    logger.warn({ breaker: 'loyalty-card-service', state: 'open' }, 'loyalty card service circuit opened');
    notify('open');
  });
  breaker.on('halfOpen', () => {
    logger.info(
      { breaker: 'loyalty-card-service', state: 'half-open' },
      'loyalty card service circuit half-open',
    );
    notify('half-open');
  });
  breaker.on('close', () => {
    logger.info({ breaker: 'loyalty-card-service', state: 'closed' }, 'loyalty card service circuit closed');
    notify('closed');
  });

  return {
    async putCustomer(call) {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const result = await breaker.fire(call);
        lastAnswerAt = Date.now();
        if (authBlocked) {
          authBlocked = false;
          logger.info({ breaker: 'loyalty-card-service' }, 'loyalty card service accepts the API key again');
        }
        onCall?.(result, seconds());
        return result;
      } catch (error) {
        const code = breakerCode(error);
        if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN') {
          onCall?.('circuit-open', seconds());
          throw new LoyaltyCallError('unavailable', 'the loyalty card service circuit is open', {
            cause: error,
          });
        }
        if (error instanceof ProviderAnswerError && isAuthFailureStatus(error.status)) {
          onCall?.('unauthorized', seconds());
          if (!authBlocked) {
            authBlocked = true;
            logger.error(
              { breaker: 'loyalty-card-service', status: error.status },
              `loyalty card service refused the API key (${error.status}); delivery paused until it is accepted (check CUSTOMER_LOYALTY_CARD_SERVICE.api_key)`,
            );
          }
          // At once, not after the error threshold: every call would be refused alike. The
          // half-open trial after resetTimeout tries the key again (a live settings change or the
          // provider's own fix is picked up there).
          breaker.open();
          throw new LoyaltyCallError('unavailable', `${error.message}: the API key was refused`, {
            status: error.status,
            cause: error,
          });
        }
        if (error instanceof ProviderAnswerError && isNonRetryableStatus(error.status)) {
          lastAnswerAt = Date.now();
          onCall?.('rejected', seconds());
          throw new LoyaltyCallError('rejected', error.message, { status: error.status, cause: error });
        }
        onCall?.(isTimeout(error) ? 'timeout' : 'failed', seconds());
        // The failure that opened the circuit (or failed the half-open trial) is not an attempt
        // to count towards dead-lettering: the provider is down, the event waits for it.
        const kind = breaker.closed ? 'retryable' : 'unavailable';
        const message = isTimeout(error)
          ? `loyalty card service did not answer within ${call.timeoutMs} ms`
          : describe(error);
        throw new LoyaltyCallError(kind, message, {
          status: error instanceof ProviderAnswerError ? error.status : undefined,
          cause: error,
        });
      }
    },
    answeredSince: (time) => lastAnswerAt >= time,
    state,
    authBlocked: () => authBlocked,
    onStateChange(listener) {
      listeners.push(listener);
    },
    shutdown() {
      breaker.shutdown();
      transport.close();
    },
  };
}
