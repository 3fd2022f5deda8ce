export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  /** Sends the body as multipart/form-data. */
  form?: FormData;
  /** Raw body with its content type, for malformed-input tests. */
  raw?: { body: string | Buffer; contentType: string };
  headers?: Record<string, string>;
  /** Leave out the X-CSRFToken header even when a token is known. */
  withoutCsrf?: boolean;
  /** Aborts the request, e.g. AbortSignal.timeout(ms) for a bounded wait under failure tests. */
  signal?: AbortSignal;
}

/** A browser-like client: keeps the cookies the API sets and echoes the CSRF token on unsafe calls. */
export class ApiClient {
  readonly baseUrl: string;
  private cookies = new Map<string, string>();

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  /** The same session (shared cookies) against another replica. */
  withBaseUrl(baseUrl: string): ApiClient {
    const other = new ApiClient(baseUrl);
    other.cookies = this.cookies;
    return other;
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    json?: unknown,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    const csrf = this.cookies.get('csrftoken');
    if (csrf && !options.withoutCsrf && !['GET', 'HEAD'].includes(method)) headers['x-csrftoken'] = csrf;
    let body: string | Buffer | FormData | undefined;
    if (options.form) body = options.form;
    else if (options.raw) {
      body = options.raw.body;
      headers['content-type'] = options.raw.contentType;
    } else if (json !== undefined) {
      body = JSON.stringify(json);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: options.signal,
    });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair = ''] = setCookie.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    const parsed = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = Record<string, unknown>>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, undefined, options);
  }
  post<T = Record<string, unknown>>(path: string, json?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, json, options);
  }
  put<T = Record<string, unknown>>(path: string, json?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, json, options);
  }
  patch<T = Record<string, unknown>>(path: string, json?: unknown, options?: RequestOptions) {
    return this.request<T>('PATCH', path, json, options);
  }
}

/**
 * Throws unless the response has `status`, with its body in the message: a test that goes on to
 * read the body learns why the call failed, not that a field was undefined.
 */
export function expectStatus(
  response: { status: number; body: unknown },
  status: number,
  what: string,
): void {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
}
