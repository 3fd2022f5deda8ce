import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Official images by default; infra/images/build.sh writes local stand-ins to .env.images offline. */
const OFFICIAL_IMAGES = {
  MONGO_IMAGE: 'mongo:8',
  REDIS_IMAGE: 'redis:7-alpine',
  KAFKA_IMAGE: 'apache/kafka:4.1.2',
  NODE_IMAGE: 'node:24-bookworm-slim',
  ZIPKIN_IMAGE: 'openzipkin/zipkin:3.6.1',
} as const;

export type ImageVariable = keyof typeof OFFICIAL_IMAGES;

function findImageEnvFile(start: string): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '.env.images');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function readImageEnvFile(): Record<string, string> {
  const file = findImageEnvFile(process.cwd());
  if (!file) return {};
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

/** The environment wins, then .env.images, then the official image. */
export function imageFor(variable: ImageVariable): string {
  return process.env[variable] || readImageEnvFile()[variable] || OFFICIAL_IMAGES[variable];
}
