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

/**
 * The served API description: the contract's operations and components unchanged, plus the
 * supplement's. The supplement brings the title and servers (the contract names a storefront host).
 */
export function mergeOpenApi(contract: OpenApiDocument, supplement: OpenApiDocument): OpenApiDocument {
  const components: Record<string, Record<string, unknown>> = { ...contract.components };
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
    security: contract.security,
    tags,
    components,
    paths: mergeSection('path', contract.paths ?? {}, supplement.paths ?? {}),
  };
}
