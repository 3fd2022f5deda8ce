/** Reading the benchmarks' BENCH_* settings: a bad value stops the run with a line naming it. */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function intFrom(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

/** A comma-separated choice among `known` (all of them when unset), e.g. BENCH_PHASES. */
export function namesFrom<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  known: readonly T[],
  what: string,
): T[] {
  const raw = env[name];
  if (!raw) return [...known];
  const names = raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
  for (const item of names) {
    if (!(known as readonly string[]).includes(item)) {
      throw new Error(`${name}: unknown ${what} "${item}" (known: ${known.join(', ')})`);
    }
  }
  return names as T[];
}

/** A JSON object of strings, e.g. BENCH_WORKER_ENV='{"LOG_LEVEL":"info"}' ({} when unset). */
export function stringMapFrom(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const raw = env[name];
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((value) => typeof value === 'string')
  ) {
    throw new Error(`${name} must be a JSON object of strings, e.g. {"LOG_LEVEL":"info"}`);
  }
  return parsed as Record<string, string>;
}

/**
 * Named variants of a process's environment, measured side by side in one run, e.g.
 * BENCH_API_VARIANTS='{"off":{},"traced":{"OTEL_TRACES_EXPORTER":"zipkin"}}'; `fallback` when unset.
 */
export function variantsFrom(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: Record<string, Record<string, string>>,
): Record<string, Record<string, string>> {
  const raw = env[name];
  if (!raw) return fallback;
  const problem = `${name} must be a JSON object of variant name → JSON object of strings, e.g. {"off":{},"on":{"OTEL_TRACES_EXPORTER":"console"}}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(problem);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(problem);
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (
    entries.length === 0 ||
    entries.some(([variant]) => !/^[\w%.+-]{1,16}$/.test(variant) || variant === 'floor')
  ) {
    throw new Error(`${problem}; names: 1-16 of [A-Za-z0-9_%.+-], not "floor"`);
  }
  return Object.fromEntries(
    entries.map(([variant, value]) => [variant, stringMapFrom({ [name]: JSON.stringify(value) }, name)]),
  );
}
