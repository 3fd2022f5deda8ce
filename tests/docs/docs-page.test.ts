import contract from '../../docs/contract/profile-openapi.json' with { type: 'json' };
import { launchBrowser, watchPage, type HeadlessBrowser } from '../support/browser.ts';
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

const contractSummaries = Object.values(contract.paths).flatMap((item) =>
  Object.values(item as Record<string, { summary?: string }>).flatMap((operation) =>
    operation.summary ? [operation.summary] : [],
  ),
);

describe('API reference page (/docs) in a headless browser', () => {
  let harness: ProfileApiHarness;
  let browser: HeadlessBrowser;

  beforeAll(async () => {
    harness = await startProfileApiHarness('docs_page');
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  it('renders the six profile operations, with nothing fetched from outside the server', async () => {
    expect(contractSummaries).toHaveLength(6);
    const page = await browser.context.newPage();
    const { requested, problems } = watchPage(page);

    const response = await page.goto(`${harness.api.url}/docs`);
    expect(response?.status()).toBe(200);
    for (const summary of contractSummaries) {
      await page.getByText(summary, { exact: true }).first().waitFor({ state: 'visible', timeout: 20_000 });
    }

    // The login and settings operations this service adds are listed too.
    await page.getByText('Log in', { exact: true }).waitFor({ state: 'visible' });
    expect(
      requested.filter((url) => !url.startsWith(`${harness.api.url}/`) && !url.startsWith('data:')),
    ).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);
});
