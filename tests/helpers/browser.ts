// Debian's Chromium driven by playwright-core, for the tests that open newsloom's pages in a real browser.
// Outside CI a machine without it skips those tests, saying so; in CI (CI=true, which .ci/run sets) they must
// run, so a missing browser fails them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describe } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const MISSING = !existsSync(CHROMIUM);

/** A describe block of browser tests: skipped, with the reason in its name, where Chromium is missing outside CI. */
export function describeInBrowser(name: string, body: () => void): void {
  if (MISSING && !IN_CI) describe.skip(`${name} (skipped: needs ${CHROMIUM}; apt-get install -y chromium)`, body);
  else describe(name, body);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile (playwright passes it as --user-data-dir), reading pages in the given locale. */
export async function launchBrowser(locale = 'en-US'): Promise<Browser> {
  if (MISSING) throw new Error(`CI is set but ${CHROMIUM} is missing: install it (apt-get install -y chromium), as .ci/run does`);
  const profile = mkdtempSync(path.join(tmpdir(), 'newsloom-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    locale,
    // Our pages forbid every script by their Content-Security-Policy; axe-core is injected all the same.
    bypassCSP: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function seriousAccessibilityFindings(page: Page): Promise<AxeFinding[]> {
  await page.addScriptTag({ content: AXE });
  // A string, run in the page: the tests are compiled without the DOM's types.
  const violations = await page.evaluate<{ id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[]>(
    'axe.run(document).then((result) => result.violations)',
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact!, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Errors the page logged or threw, collected from now on. */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** Where screenshots of the pages are written (gitignored; named in the README). */
export const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'screenshots');
