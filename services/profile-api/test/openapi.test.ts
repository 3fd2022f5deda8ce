import contract from '../../../docs/contract/profile-openapi.json' with { type: 'json' };
import served from '../src/openapi/openapi.json' with { type: 'json' };
import supplement from '../src/openapi/supplement.json' with { type: 'json' };
import { allowNullInNullableEnums, mergeOpenApi, type OpenApiDocument } from '../src/openapi/merge.ts';

const contractDoc = contract as OpenApiDocument;
const servedDoc = served as OpenApiDocument;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

const operations = (doc: OpenApiDocument) =>
  Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => METHODS.includes(key))
      .map((method) => [path, method] as const),
  );

/** Every `$ref` value anywhere in the document. */
function refsOf(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsOf);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [value] : refsOf(value),
  );
}

/** Paths (.a.b) where `whole` lacks or changes something `part` has; an array may only grow at its end. */
function missingFrom(whole: unknown, part: unknown, at = ''): string[] {
  if (Array.isArray(part)) {
    const prefix = Array.isArray(whole) ? whole.slice(0, part.length) : whole;
    return JSON.stringify(prefix) === JSON.stringify(part) ? [] : [at];
  }
  if (part && typeof part === 'object' && !Array.isArray(part)) {
    if (!whole || typeof whole !== 'object' || Array.isArray(whole)) return [at];
    return Object.entries(part).flatMap(([key, value]) =>
      missingFrom((whole as Record<string, unknown>)[key], value, `${at}.${key}`),
    );
  }
  return JSON.stringify(whole) === JSON.stringify(part) ? [] : [at];
}

/** A `$ref` to a component resolved against the served document; anything else as it is. */
function resolved<T>(node: T | { $ref: string }): T {
  const ref = (node as { $ref?: string }).$ref;
  if (!ref) return node as T;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], servedDoc) as T;
}

interface ResponseObject {
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, { required?: boolean }>;
}
const responsesOf = (path: string, method: string) =>
  (servedDoc.paths?.[path]?.[method] as { responses: Record<string, ResponseObject> }).responses;

describe('served OpenAPI document', () => {
  it('keeps every part of the six contract operations and of the contract components', () => {
    const contractOps = operations(contractDoc);
    expect(contractOps).toHaveLength(6);
    // Additions only: everything the contract says is in the served document, unchanged, except
    // null added to the nullable enum (gender), which only states what the type already allows.
    expect(missingFrom(servedDoc, allowNullInNullableEnums(contractDoc))).toEqual([
      '.info.title', // the served document has its own title and servers
      '.servers',
    ]);
    for (const [path, method] of contractOps) {
      const contractOp = contractDoc.paths![path]![method] as Record<string, unknown>;
      const servedOp = servedDoc.paths![path]![method] as Record<string, unknown>;
      expect(servedOp.requestBody).toEqual(contractOp.requestBody);
      expect(servedOp.parameters).toEqual(contractOp.parameters);
      expect(responsesOf(path, method)['200']).toEqual(
        (contractOp.responses as Record<string, unknown>)['200'],
      );
    }
    for (const [name, value] of Object.entries(contractDoc.components?.schemas ?? {})) {
      if (name !== 'UserProfile') expect(servedDoc.components?.schemas?.[name]).toEqual(value);
    }
  });

  it('accepts null for gender, as the API answers for an unknown gender, and nothing else new', () => {
    const profile = servedDoc.components!.schemas!.UserProfile as {
      properties: Record<string, { type?: unknown; enum?: unknown[] }>;
    };
    expect(profile.properties.gender).toEqual({ type: ['string', 'null'], enum: ['male', 'female', null] });
    const contractProfile = contractDoc.components!.schemas!.UserProfile as typeof profile;
    expect({ ...profile.properties, gender: undefined }).toEqual({
      ...contractProfile.properties,
      gender: undefined,
    });
  });

  it('declares the cookie session and the Token scheme as alternatives', () => {
    expect(servedDoc.security).toEqual([{ SessionCookie: [] }, { TokenAuth: [] }]);
    expect(servedDoc.components?.securitySchemes?.TokenAuth).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
    });
  });

  it('lists every error a profile operation can answer, each with a DRF error body', () => {
    for (const [path, method] of operations(contractDoc)) {
      const expected = method === 'get' ? ['401'] : ['400', '401', '403', '409', '413', '415', '429', '503'];
      expect(Object.keys(responsesOf(path, method))).toEqual(expect.arrayContaining(expected));
    }
  });

  it('gives every 4xx and 5xx answer of an operation with a body or a parameter a JSON body schema', () => {
    for (const [path, method] of operations(servedDoc)) {
      for (const [status, response] of Object.entries(responsesOf(path, method))) {
        if (Number(status) < 400 || path === '/readyz') continue;
        const schema = resolved<ResponseObject>(response).content?.['application/json']?.schema;
        expect({ path, method, status, schema: Boolean(schema) }).toEqual({
          path,
          method,
          status,
          schema: true,
        });
      }
    }
  });

  it('declares Retry-After on every 429 and 503 answer', () => {
    for (const [path, method] of operations(servedDoc)) {
      for (const status of ['429', '503']) {
        const response = responsesOf(path, method)[status];
        if (!response || path === '/readyz') continue;
        const header = resolved(resolved<ResponseObject>(response).headers?.['Retry-After'] ?? {});
        expect({ path, method, status, required: header.required }).toEqual({
          path,
          method,
          status,
          required: true,
        });
      }
    }
  });

  it('documents the endpoints profile-api adds', () => {
    const ids = operations(servedDoc).map(([path, method]) => `${method.toUpperCase()} ${path}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        'POST /users/registration/',
        'POST /users/login/',
        'POST /users/logout/',
        'GET /csrf_token/',
        'GET /admin/settings/{key}',
        'PUT /admin/settings/{key}',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /media/avatars/{userId}/{file}',
      ]),
    );
  });

  it('resolves every $ref inside the document', () => {
    for (const ref of new Set(refsOf(servedDoc))) {
      expect(ref).toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], servedDoc);
      expect({ ref, found: target !== undefined }).toEqual({ ref, found: true });
    }
  });

  it('is up to date with the contract and the supplement (node scripts/build-openapi.ts)', () => {
    expect(servedDoc).toEqual(mergeOpenApi(contractDoc, supplement as OpenApiDocument));
  });

  it('refuses a supplement that changes anything the contract says', () => {
    const clash = { paths: { '/users/profile/': { get: { responses: { '401': { description: 'x' } } } } } };
    expect(() => mergeOpenApi(contractDoc, clash)).toThrow(
      'supplement redefines paths./users/profile/.get.responses.401.description',
    );
    const schema = { components: { schemas: { UserProfile: {} } } };
    expect(() => mergeOpenApi(contractDoc, schema)).toThrow(
      'supplement redefines components.schemas UserProfile',
    );
  });
});
