import { startProviderSim, type ProviderSimOptions, type RunningProviderSim } from '../../src/start.ts';

export interface SimResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface CallOptions {
  /** Serialized as JSON with Content-Type application/json. */
  json?: unknown;
  /** Sent as is (for malformed bodies). */
  raw?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface SimClient {
  sim: RunningProviderSim;
  call(method: string, path: string, options?: CallOptions): Promise<SimResponse>;
  /** PUT /customers/:id with a valid bearer key unless headers say otherwise. */
  putCustomer(
    id: string,
    key: string | undefined,
    json: unknown,
    headers?: Record<string, string>,
  ): Promise<SimResponse>;
}

/** The real server on an ephemeral port, called over HTTP like the services call it. */
export async function startSimClient(options: ProviderSimOptions = {}): Promise<SimClient> {
  const sim = await startProviderSim({ port: 0, host: '127.0.0.1', logLevel: 'silent', ...options });
  const call: SimClient['call'] = async (method, path, { json, raw, headers = {}, signal } = {}) => {
    const allHeaders: Record<string, string> = { ...headers };
    let body: string | undefined = raw;
    if (json !== undefined) {
      body = JSON.stringify(json);
      allHeaders['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${sim.url}${path}`, { method, headers: allHeaders, body, signal });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  return {
    sim,
    call,
    putCustomer: (id, key, json, headers = {}) =>
      call('PUT', `/customers/${encodeURIComponent(id)}`, {
        json,
        headers: {
          authorization: 'Bearer test-key',
          ...(key === undefined ? {} : { 'idempotency-key': key }),
          ...headers,
        },
      }),
  };
}

/** Polls an observable state (never a fixed sleep) until `probe` holds. */
export async function eventually(description: string, probe: () => Promise<boolean>, timeoutMs = 5_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
