// Writes profile-api's served API description from the contract and the hand-written supplement:
//   node scripts/build-openapi.ts
// Run it after editing either; services/profile-api/test/openapi.test.ts fails while the output is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { mergeOpenApi } from '../services/profile-api/src/openapi/merge.ts';

const at = (path: string) => new URL(`../${path}`, import.meta.url);
const read = (path: string) => JSON.parse(readFileSync(at(path), 'utf8'));

const output = at('services/profile-api/src/openapi/openapi.json');
const merged = mergeOpenApi(
  read('docs/contract/profile-openapi.json'),
  read('services/profile-api/src/openapi/supplement.json'),
);
// Formatted as `prettier --check .` expects it.
const options = { ...(await resolveConfig(output)), parser: 'json' };
writeFileSync(output, await format(JSON.stringify(merged, null, 2), options));
console.log(`wrote ${output.pathname}`);
