import http from 'node:http';
import https from 'node:https';
import type { LoyaltyCall, LoyaltyCallResult } from '../domain/sync-use-case.ts';

/** A non-2xx answer of the provider. */
export class ProviderAnswerError extends Error {
  override name = 'ProviderAnswerError';
  readonly status: number;
  constructor(status: number) {
    super(`loyalty card service answered ${status}`);
    this.status = status;
  }
}

export function customerUrl(baseUrl: string, customerId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/customers/${encodeURIComponent(customerId)}`;
}

export interface LoyaltyCardHttp {
  putCustomer(call: LoyaltyCall): Promise<LoyaltyCallResult>;
  /** Closes the pooled connections. */
  close(): void;
}

/**
 * PUT /customers/{id} over node:http with a keep-alive pool of `maxSockets` connections (one per
 * call in flight). Measured: about 1.5x the events/s of global fetch at zero provider latency.
 * The AbortSignal cancels the request itself at the timeout, so a timed-out call is never applied
 * late by a provider that honours disconnects.
 */
export function createLoyaltyCardHttp(maxSockets: number): LoyaltyCardHttp {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets }),
  };
  return {
    putCustomer(call) {
      const url = new URL(customerUrl(call.baseUrl, call.customerId));
      const secure = url.protocol === 'https:';
      const body = JSON.stringify(call.payload);
      return new Promise<LoyaltyCallResult>((resolve, reject) => {
        const request = (secure ? https.request : http.request)(
          url,
          {
            method: 'PUT',
            agent: secure ? agents.https : agents.http,
            signal: AbortSignal.timeout(call.timeoutMs),
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              'idempotency-key': call.idempotencyKey,
              authorization: `Bearer ${call.apiKey}`,
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', reject);
            response.on('close', () => {
              if (!response.complete) reject(new Error('the loyalty card service closed the answer early'));
            });
            response.on('end', () => {
              const status = response.statusCode ?? 0;
              if (status < 200 || status > 299) return reject(new ProviderAnswerError(status));
              resolve(isReplay(Buffer.concat(chunks)) ? 'replayed' : 'applied');
            });
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function isReplay(body: Buffer): boolean {
  try {
    return (JSON.parse(body.toString('utf8')) as { replayed?: unknown }).replayed === true;
  } catch {
    return false;
  }
}
