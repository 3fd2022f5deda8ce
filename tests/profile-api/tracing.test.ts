import { startZipkin, waitFor, type ServiceContainer } from '@app/testkit';
import { ApiClient, expectStatus } from '../support/api-client.ts';
import { spawnProfileApi, type ProfileApiProcess } from '../support/profile-api-process.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';
import { newTraceparent, readTrace, type ZipkinSpan } from '../support/zipkin.ts';

const SERVICE = 'profile-api-tracing-suite';
const PROFILE = '/users/profile/';

/**
 * profile-api as the images run it (the tracing preload), sampling only what a caller sampled, so
 * every trace in Zipkin is one this suite started. Its Redis client auto-pipelines: commands of
 * requests running at the same moment leave in one write.
 */
describe('profile-api traced: each span belongs to the request that caused it', () => {
  let harness: ProfileApiHarness;
  let zipkin: ServiceContainer;
  let traced: ProfileApiProcess;
  let session: ApiClient;

  beforeAll(async () => {
    [harness, zipkin] = await Promise.all([startProfileApiHarness('tracing'), startZipkin()]);
    const { config } = harness.api;
    traced = await spawnProfileApi({
      MONGO_URL: config.mongoUrl,
      REDIS_URL: config.redisUrl,
      SECRET_KEY: config.secretKey,
      ADMIN_TOKEN: config.adminToken,
      LOG_LEVEL: 'warn',
      OTEL_SERVICE_NAME: SERVICE,
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${zipkin.url}/api/v2/spans`,
      OTEL_TRACES_SAMPLER: 'parentbased_always_off',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const { email, password } = await harness.signUp();
    session = new ApiClient(traced.url);
    expectStatus(await session.post('/users/login/', { email, password }), 200, 'login');
  }, 180_000);

  afterAll(async () => {
    await traced?.kill();
    await Promise.all([zipkin?.stop(), harness?.stop()]);
  });

  const isRedis = (span: ZipkinSpan) =>
    (span.tags?.['db.system.name'] ?? span.tags?.['db.system']) === 'redis';

  const commandsOf = (spans: ZipkinSpan[]) => spans.map((span) => span.name ?? '').sort();

  /** The sampled GET's trace once its server span and at least `redisSpans` Redis spans arrived. */
  async function tracedRead(traceId: string, redisSpans: number): Promise<ZipkinSpan[]> {
    let spans: ZipkinSpan[] = [];
    try {
      return await waitFor(
        `Zipkin to hold trace ${traceId} with its server span and ${redisSpans} Redis span(s)`,
        async () => {
          spans = await readTrace(zipkin.url, traceId);
          const server = spans.some((span) => span.kind === 'SERVER');
          return server && spans.filter(isRedis).length >= redisSpans ? spans : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
    } catch (error) {
      const names = spans.map((span) => `${span.kind ?? ''} ${span.name ?? ''}`).join(', ');
      throw new Error(`${(error as Error).message}; it holds: ${names || 'nothing'}`, { cause: error });
    }
  }

  async function sampledGet(): Promise<string> {
    const { traceId, traceparent } = newTraceparent();
    expectStatus(await session.get(PROFILE, { headers: { traceparent } }), 200, 'the sampled GET');
    return traceId;
  }

  test(
    'when a sampled read runs among unsampled ones whose Redis commands share its pipeline, then its ' +
      'trace holds exactly its own Redis commands, under its server span, and no other trace exists',
    async () => {
      // Alone, the read's own commands: what every sampled read's trace must hold, no more, no less.
      // (After one read, so that the profile is cached: a miss would also fill the cache.)
      expectStatus(await session.get(PROFILE), 200, 'the first read');
      const alone = await tracedRead(await sampledGet(), 1);
      const ownSpans = alone.filter(isRedis);
      const own = ownSpans.length;
      const mine = [alone[0]!.traceId];

      for (let round = 0; round < 6; round += 1) {
        // The sampled read queues its commands first, in the middle or last among 40 others.
        const position = [0, 20, 40][round % 3]!;
        let sampled!: Promise<string>;
        const reads = Array.from({ length: 41 }, (_, index) => {
          if (index !== position) return session.get(PROFILE);
          sampled = sampledGet();
          return sampled;
        });
        await Promise.all(reads);
        mine.push(await sampled);
      }

      for (const traceId of mine.slice(1)) {
        const spans = await tracedRead(traceId, own);
        const server = spans.find((span) => span.kind === 'SERVER')!;
        const redis = spans.filter(isRedis);
        expect({ traceId, commands: commandsOf(redis) }).toEqual({ traceId, commands: commandsOf(ownSpans) });
        expect(redis.every((span) => span.parentId === server.id)).toBe(true);
      }
      // Unsampled reads (and the log-in) started no trace of their own and joined none.
      const response = await fetch(`${zipkin.url}/api/v2/traces?serviceName=${SERVICE}&limit=1000`);
      const traces = (await response.json()) as ZipkinSpan[][];
      expect(traces.map((spans) => spans[0]!.traceId).sort()).toEqual([...mine].sort());
    },
    120_000,
  );
});
