import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { consoleErrors, describeInBrowser, launchBrowser, SCREENSHOTS, seriousAccessibilityFindings, type Browser } from './helpers/browser.ts';
import { startNewsroom, type Newsroom } from './helpers/news.ts';

/** Every kind of page, by the name its screenshots carry. */
const PAGES: [name: string, path: string][] = [
  ['index', '/'],
  ['output', '/feeds/everything.html'],
  ['topic', '/topics/kazakhstan.html'],
  ['source', '/sources/tass-ru.html'],
  ['search', '/search.html?q=Astana%20Kazakh*'],
  ['search-nothing', '/search.html?q=zanzibar'],
];

describeInBrowser('the pages in a real browser', () => {
  let pub: Newsroom;
  let browsers: Record<string, Browser>;
  beforeAll(async () => {
    pub = await startNewsroom();
    // A phone in Russian, a desktop in English.
    browsers = { ru: await launchBrowser('ru-RU'), en: await launchBrowser('en-US') };
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(browsers ?? {}).map((b) => b.close()));
    await pub?.stop();
  });

  for (const [width, lang, scheme] of [
    [360, 'ru', 'light'],
    [360, 'ru', 'dark'],
    [1280, 'en', 'light'],
    [1280, 'en', 'dark'],
  ] as const) {
    for (const [name, address] of PAGES) {
      it(`shows the ${name} page at ${width} px (${lang}, ${scheme}): readable, linked to its feeds, no errors, nothing serious for axe`, { timeout: 60_000 }, async () => {
        const page = await browsers[lang]!.context.newPage();
        try {
          await page.setViewportSize({ width, height: 800 });
          await page.emulateMedia({ colorScheme: scheme });
          const errors = consoleErrors(page);
          const response = await page.goto(`${pub.url}${address}`, { waitUntil: 'load' });
          expect(response?.status()).toBe(200);
          expect(await page.getAttribute('html', 'lang')).toBe(lang);
          const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
          expect(overflow, 'horizontal overflow').toBeLessThanOrEqual(0);
          expect(await page.locator('main').innerText()).toMatch(/[А-Яа-яЁё]{4}/);
          // Links that lead to the feeds: autodiscovery, and links a person can follow.
          const links = await page.locator('link[rel="alternate"][type="application/atom+xml"]').all();
          const feeds = await Promise.all(links.map(async (l) => (await l.getAttribute('href'))!));
          expect(feeds.length).toBeGreaterThan(0);
          for (const href of feeds) expect((await fetch(href)).status, href).toBe(200);
          expect(await page.locator('a[type="application/atom+xml"]').count()).toBeGreaterThan(0);
          expect(await seriousAccessibilityFindings(page)).toEqual([]);
          await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}${scheme === 'dark' ? '-dark' : ''}.png`), fullPage: true });
          expect(errors).toEqual([]);
        } finally {
          await page.close();
        }
      });
    }
  }

  it('searches from the box on a page, without JavaScript', async () => {
    const page = await browsers.en!.context.newPage();
    await page.goto(`${pub.url}/feeds/kz.html`);
    await page.fill('#search-q', 'peacekeepers');
    await page.press('#search-q', 'Enter');
    await page.waitForURL(/\/search\.html\?q=peacekeepers$/);
    expect(await page.locator('#result-count').textContent()).toBe('1 result for “peacekeepers”');
    expect(await page.locator('article.entry mark').allTextContents()).toEqual(['peacekeepers', 'Peacekeepers']);
    await page.close();
  });
});
