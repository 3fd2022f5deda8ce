/** Just enough of OpenAPI's shape to merge two documents; everything else passes through untouched. */
export interface OpenApiDocument {
  openapi?: string;
  info?: unknown;
  servers?: unknown[];
  security?: unknown[];
  tags?: { name: string }[];
  components?: Record<string, Record<string, unknown>>;
  paths?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

function mergeSection<T>(what: string, base: Record<string, T>, extra: Record<string, T>): Record<string, T> {
  for (const name of Object.keys(extra)) {
    // Never redefine the contract: a supplement entry with a taken name is a mistake, not an override.
    if (Object.hasOwn(base, name)) throw new Error(`supplement redefines ${what} ${name}`);
  }
  return { ...base, ...extra };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `base` with whatever `extra` adds at any depth: new keys only. A key both have must be an object
 * on both sides (merged the same way); anything else would change what the contract says.
 */
function addOnly(what: string, base: unknown, extra: unknown): unknown {
  if (!isObject(base) || !isObject(extra)) throw new Error(`supplement redefines ${what}`);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    merged[key] = Object.hasOwn(base, key) ? addOnly(`${what}.${key}`, base[key], value) : value;
  }
  return merged;
}

/**
 * The contract declares `gender` as `type: [string, null]` with `enum: [male, female]`; by JSON
 * Schema's letter the enum then refuses the null the type allows (and the API answers for an
 * unknown gender). OpenAPI 3.0.3 settled the same ambiguity by listing null in the enum: the served
 * copy does so, which keeps the schema's meaning and lets validators (schemathesis) agree with it.
 */
export function allowNullInNullableEnums<T>(node: T): T {
  if (Array.isArray(node)) return node.map(allowNullInNullableEnums) as T;
  if (!isObject(node)) return node;
  const copy = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, allowNullInNullableEnums(value)]),
  );
  const { type, enum: values } = copy;
  if (Array.isArray(type) && type.includes('null') && Array.isArray(values) && !values.includes(null)) {
    copy.enum = [...values, null];
  }
  return copy as T;
}

/**
 * The served API description: the contract's operations and components, plus the supplement's.
 * The supplement may add (never change) anything inside the contract's paths: the error answers its
 * operations can give, and content for the answers the contract lists without a body. Its security
 * schemes are alternatives to the contract's. It brings the title and servers (the contract names a
 * storefront host).
 */
export function mergeOpenApi(contract: OpenApiDocument, supplement: OpenApiDocument): OpenApiDocument {
  const components: Record<string, Record<string, unknown>> = {
    ...contract.components,
    schemas: allowNullInNullableEnums(contract.components?.schemas ?? {}),
  };
  for (const [section, entries] of Object.entries(supplement.components ?? {})) {
    components[section] = mergeSection(`components.${section}`, components[section] ?? {}, entries);
  }
  const tags = [...(contract.tags ?? [])];
  for (const tag of supplement.tags ?? []) {
    if (tags.some((known) => known.name === tag.name))
      throw new Error(`supplement redefines tag ${tag.name}`);
    tags.push(tag);
  }
  return {
    openapi: contract.openapi,
    info: supplement.info ?? contract.info,
    servers: supplement.servers ?? contract.servers,
    security: [...(contract.security ?? []), ...(supplement.security ?? [])],
    tags,
    components,
    paths: addOnly('paths', contract.paths ?? {}, supplement.paths ?? {}) as OpenApiDocument['paths'],
  };
}
