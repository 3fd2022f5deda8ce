import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type OpenApi = {
  components: { schemas: Record<string, unknown> };
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
};

// The contract as given (docs/contract is a verbatim copy of the seed document).
const document = JSON.parse(
  readFileSync(path.join(__dirname, '../../docs/contract/profile-openapi.json'), 'utf8'),
) as OpenApi;

/**
 * The contract declares `gender` as `type: [string, null]` with `enum: [male, female]`; by JSON
 * Schema's rules the enum then rejects null, which the type and the product (gender unknown)
 * clearly allow. OpenAPI 3.0.3 settled the same ambiguity by listing null in the enum: do so.
 */
function allowNullInNullableEnums(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const schema = node as { type?: unknown; enum?: unknown[] };
  if (Array.isArray(schema.type) && schema.type.includes('null') && Array.isArray(schema.enum)) {
    if (!schema.enum.includes(null)) schema.enum.push(null);
  }
  Object.values(node).forEach(allowNullInNullableEnums);
}
allowNullInNullableEnums(document.components.schemas);

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
// OpenAPI's "binary" describes upload encoding, not a string syntax: any string matches.
ajv.addFormat('binary', true);
ajv.addSchema(
  JSON.parse(
    JSON.stringify({ $defs: document.components.schemas }).replaceAll('#/components/schemas/', '#/$defs/'),
  ),
  'contract',
);

const validators = new Map<string, ValidateFunction>();

function validatorFor(operationPath: string, method: string, status: number): ValidateFunction {
  const cacheKey = `${method} ${operationPath} ${status}`;
  let validate = validators.get(cacheKey);
  if (!validate) {
    const response = document.paths[operationPath]?.[method]?.responses[String(status)];
    const schema = response?.content?.['application/json']?.schema as { $ref: string } | undefined;
    if (!schema) throw new Error(`the contract has no JSON body for ${cacheKey}`);
    validate = ajv.compile({ $ref: schema.$ref.replace('#/components/schemas/', 'contract#/$defs/') });
    validators.set(cacheKey, validate);
  }
  return validate;
}

/** Properties a contract schema declares, following allOf: the body may carry nothing else. */
function declaredProperties(name: string): string[] {
  const schema = document.components.schemas[name] as {
    properties?: Record<string, unknown>;
    allOf?: { $ref?: string; properties?: Record<string, unknown> }[];
  };
  const own = Object.keys(schema.properties ?? {});
  const inherited = (schema.allOf ?? []).flatMap((part) =>
    part.$ref ? declaredProperties(part.$ref.split('/').pop()!) : Object.keys(part.properties ?? {}),
  );
  return [...own, ...inherited];
}

/** Asserts a response body matches the contract's schema for that operation and status, exactly. */
export function expectContractBody(
  operationPath: string,
  method: string,
  status: number,
  body: unknown,
): void {
  const validate = validatorFor(operationPath, method.toLowerCase(), status);
  if (!validate(body)) {
    throw new Error(
      `${method} ${operationPath} ${status} breaks the contract: ${ajv.errorsText(validate.errors)}`,
    );
  }
  const schema = document.paths[operationPath]![method.toLowerCase()]!.responses[String(status)]!.content![
    'application/json'
  ]!.schema as { $ref: string };
  const allowed = new Set(declaredProperties(schema.$ref.split('/').pop()!));
  const extra = Object.keys(body as object).filter((key) => !allowed.has(key));
  if (extra.length > 0)
    throw new Error(`${method} ${operationPath} ${status} has undeclared fields: ${extra.join(', ')}`);
}
