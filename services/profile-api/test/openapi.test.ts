import contract from '../../../docs/contract/profile-openapi.json' with { type: 'json' };
import served from '../src/openapi/openapi.json' with { type: 'json' };
import supplement from '../src/openapi/supplement.json' with { type: 'json' };
import { mergeOpenApi, type OpenApiDocument } from '../src/openapi/merge.ts';

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

describe('served OpenAPI document', () => {
  it('has the six contract operations, identical to the contract', () => {
    const contractOps = operations(contractDoc);
    expect(contractOps).toHaveLength(6);
    for (const [path, method] of contractOps) {
      expect(servedDoc.paths?.[path]?.[method]).toEqual(contractDoc.paths?.[path]?.[method]);
    }
    // Nothing added to the contract's paths, nothing changed in what its operations refer to.
    for (const path of Object.keys(contractDoc.paths ?? {})) {
      expect(servedDoc.paths?.[path]).toEqual(contractDoc.paths?.[path]);
    }
    for (const [section, entries] of Object.entries(contractDoc.components ?? {})) {
      for (const [name, value] of Object.entries(entries)) {
        expect(servedDoc.components?.[section]?.[name]).toEqual(value);
      }
    }
    expect(servedDoc.security).toEqual(contractDoc.security);
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

  it('refuses a supplement that redefines a contract path', () => {
    const clash = { paths: { '/users/profile/': { get: {} } } };
    expect(() => mergeOpenApi(contractDoc, clash)).toThrow('supplement redefines path /users/profile/');
  });
});
