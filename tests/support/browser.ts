import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

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
/** Where tests leave what a person may want to look at after a run (scripts/test.sh keeps it). */
const SCREENSHOTS = path.join(__dirname, '../../.test-results/screenshots');

export interface HeadlessBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a throw-away profile. */
export async function launchBrowser(): Promise<HeadlessBrowser> {
  const profileDir = await mkdtemp(path.join(tmpdir(), 'test-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1440, height: 1000 },
    });
    return {
      context,
      async close() {
        await context.close();
        await rm(profileDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Collects what went wrong on a page: script errors, failed loads (>= 400) and console errors, and
 * every URL it requested (to check that nothing came from outside the server under test).
 */
export function watchPage(page: Page): { requested: string[]; problems: string[] } {
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
  return { requested, problems };
}

/** Full-page screenshot into .test-results/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
