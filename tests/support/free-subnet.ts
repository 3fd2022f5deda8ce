import { run } from './compose-stack.ts';

const docker = async (args: string[]) => {
  const result = await run('docker', args);
  if (result.code !== 0)
    throw new Error(`docker ${args[0]} ${args[1]} exited with ${result.code}: ${result.stderr}`);
  return result.stdout;
};

/** An IPv4 CIDR as its first address and size, both as numbers. */
function parseCidr(cidr: string): { start: number; size: number } | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr.trim());
  if (!match) return undefined; // IPv6, or nothing
  const [a, b, c, d, bits] = match.slice(1).map(Number) as [number, number, number, number, number];
  const size = 2 ** (32 - bits);
  const address = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  return { start: address - (address % size), size };
}

/** The IPv4 subnets of every Docker network on this engine. */
async function dockerSubnets(): Promise<{ start: number; size: number }[]> {
  const ids = (await docker(['network', 'ls', '--quiet'])).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = await docker([
    'network',
    'inspect',
    '--format',
    '{{range .IPAM.Config}}{{.Subnet}} {{end}}',
    ...ids,
  ]);
  return inspected
    .split(/\s+/)
    .map(parseCidr)
    .filter((subnet) => subnet !== undefined);
}

/**
 * The first three octets of a /24 in 172.29.0.0/16 that no Docker network on this engine overlaps,
 * for a compose file that pins container addresses (docker-compose.ha.yml's HA_NETWORK_PREFIX): a
 * fixed one would collide with a developer's own stack or a concurrent run.
 */
export async function freeNetworkPrefix(): Promise<string> {
  const taken = await dockerSubnets();
  const thirdOctets = Array.from({ length: 254 }, (_, index) => index + 1).sort(() => Math.random() - 0.5);
  for (const octet of thirdOctets) {
    const start = parseCidr(`172.29.${octet}.0/24`)!.start;
    const overlaps = taken.some((subnet) => start < subnet.start + subnet.size && subnet.start < start + 256);
    if (!overlaps) return `172.29.${octet}`;
  }
  throw new Error('no free /24 in 172.29.0.0/16 among the Docker networks of this engine');
}
