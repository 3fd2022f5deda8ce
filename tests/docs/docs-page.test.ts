import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import contract from '../../docs/contract/profile-openapi.json' with { type: 'json' };
import { startProfileApiHarness, type ProfileApiHarness } from '../support/profile-api.ts';

// Debian's chromium (scripts/prerequisites.sh installs it), not a browser playwright downloads.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const contractSummaries = Object.values(contract.paths).flatMap((item) =>
  Object.values(item as Record<string, { summary?: string }>).flatMap((operation) =>
    operation.summary ? [operation.summary] : [],
  ),
);

describe('API reference page (/docs) in a headless browser', () => {
  let harness: ProfileApiHarness;
  let profileDir: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    harness = await startProfileApiHarness('docs_page');
    profileDir = await mkdtemp(join(tmpdir(), 'docs-chromium-'));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('renders the six profile operations, with nothing fetched from outside the server', async () => {
    expect(contractSummaries).toHaveLength(6);
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('response', (answer) => {
      if (answer.status() >= 400) problems.push(`${answer.status()} ${answer.url()}`);
    });
    page.on('console', (message) => {
      // Failed loads are reported by the response listener, with their URL.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(message.text());
      }
    });

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
