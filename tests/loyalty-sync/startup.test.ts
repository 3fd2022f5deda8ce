import { runNodeScript } from '../support/workers.ts';

const START = 'services/loyalty-sync/src/start.ts';

function fatalLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((entry) => entry.level === 60)
    .map((entry) => entry.msg);
}

describe('loyalty-sync start-up', () => {
  test('when the configuration is invalid, then the worker refuses to start with one line naming every problem and exits 1', async () => {
    const run = await runNodeScript(START, [], {
      MONGO_URL: 'mongodb://127.0.0.1:1/loyalty',
      MAX_ATTEMPTS: '0',
      BREAKER_RESET_TIMEOUT_MS: 'soon',
    });

    expect(run.code).toBe(1);
    expect(fatalLines(run.stdout)).toEqual([
      'loyalty-sync failed to start: invalid configuration: "REDIS_URL" is required; "MAX_ATTEMPTS" must be greater than or equal to 1; "BREAKER_RESET_TIMEOUT_MS" must be a number',
    ]);
  }, 30_000);

  test('when the loyalty card setting in the environment is invalid, then the worker refuses to start', async () => {
    const run = await runNodeScript(START, [], {
      MONGO_URL: 'mongodb://127.0.0.1:1/loyalty',
      REDIS_URL: 'redis://127.0.0.1:1',
      CUSTOMER_LOYALTY_CARD_SERVICE: JSON.stringify({
        enabled: true,
        base_url: '',
        api_key: 'k',
        timeout_ms: 1000,
        sync_all_updates: false,
      }),
    });

    expect(run.code).toBe(1);
    expect(fatalLines(run.stdout)).toEqual([
      expect.stringMatching(
        /^loyalty-sync failed to start: invalid CUSTOMER_LOYALTY_CARD_SERVICE in the environment: .*base_url/,
      ),
    ]);
  }, 30_000);
});
