/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): where the busy time went, by package or app folder
 * ("self": the frame on top; "incl.": anywhere on the stack) and by function.
 *
 *   node bench/http/cpu-profile.ts .bench/cpu-prof/profile-api-<tag>.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IDLE = new Set(['(idle)', '(root)']);

/** A package name, an app folder, a node core module, or a V8 pseudo-frame. */
export function categoryOf({ functionName, url }: ProfileNode['callFrame']): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts.slice(0, parts[0] === 'internal' ? 2 : 1).join('/')}`;
  }
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const relative = path.relative(ROOT, file);
  if (relative.startsWith('..')) return file;
  const parts = relative.split(path.sep);
  // services/profile-api/src/entry-points/http/… → services/profile-api/src/entry-points
  return parts.slice(0, Math.min(parts.length - 1, parts[0] === 'packages' ? 2 : 4)).join('/');
}

interface Tally {
  self: Map<string, number>;
  inclusive: Map<string, number>;
  functions: Map<string, number>;
  busyUs: number;
  totalUs: number;
}

/** A stretch of the monotonic clock (µs), e.g. a load run; process.hrtime and V8 profiles share it. */
export interface TimeWindow {
  startUs: number;
  endUs: number;
}

export function tally(profile: CpuProfile, windows?: TimeWindow[]): Tally {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const result: Tally = {
    self: new Map(),
    inclusive: new Map(),
    functions: new Map(),
    busyUs: 0,
    totalUs: 0,
  };
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  let at = profile.startTime;
  profile.samples.forEach((sample, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (windows && !windows.some((window) => at >= window.startUs && at <= window.endUs)) return;
    result.totalUs += us;
    const node = byId.get(sample);
    if (!node || IDLE.has(node.callFrame.functionName)) return;
    result.busyUs += us;
    const category = categoryOf(node.callFrame);
    add(result.self, category, us);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${path.basename(url)}:${lineNumber + 1}` : '';
    add(result.functions, `${functionName || '(anonymous)'} ${where} [${category}]`, us);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id);
      if (frame && !IDLE.has(frame.callFrame.functionName)) seen.add(categoryOf(frame.callFrame));
    }
    for (const each of seen) add(result.inclusive, each, us);
  });
  return result;
}

export function summarizeProfile(file: string, top = 25, windows?: TimeWindow[], label = ''): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { self, inclusive, functions, busyUs, totalUs } = tally(profile, windows);
  const pct = (us: number) => `${((100 * us) / Math.max(busyUs, 1)).toFixed(1).padStart(5)}%`;
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [
    `${path.basename(file)}${label}: ${(busyUs / 1e6).toFixed(1)} s busy of ${(totalUs / 1e6).toFixed(1)} s sampled ` +
      '(shares below are of busy time)',
    '',
    '  self   incl.  package / folder',
  ];
  const categories = [...new Set([...self.keys(), ...inclusive.keys()])].sort(
    (a, b) => (inclusive.get(b) ?? 0) - (inclusive.get(a) ?? 0),
  );
  for (const category of categories.slice(0, top)) {
    lines.push(`${pct(self.get(category) ?? 0)} ${pct(inclusive.get(category) ?? 0)}  ${category}`);
  }
  lines.push('', '  self  function');
  for (const [name, us] of sorted(functions)) lines.push(`${pct(us)}  ${name}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/http/cpu-profile.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(summarizeProfile(file, top ? Number(top) : undefined));
}
