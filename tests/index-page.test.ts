import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInBrowser, launchBrowser, type Browser } from './helpers/browser.ts';
import { parseXml, attr, children, type Node } from './helpers/rfc4287.ts';
import { startPublishing, type Publishing } from './helpers/publish.ts';

const START = Date.UTC(2026, 0, 1);

async function seeded(): Promise<Publishing> {
  const pub = await startPublishing();
  await pub.add({ sourceId: 'tass-ru', title: 'Токаев провёл встречу <b>в Астане</b>', url: 'https://tass.ru/1' }, ['kazakhstan'], START + 2000);
  await pub.add({ sourceId: 'notes', title: 'Notes on the steppe', url: 'https://notes.example/1', summaryText: 'A quiet week.', contentHtml: '<p>A quiet week.</p><p>More.</p>' }, ['kazakhstan'], START + 1000);
  await pub.add({ sourceId: 'notes', title: 'Unrelated', url: 'https://notes.example/2' }, [], START);
  await pub.daemon.context.store.sources.recordFailure('notes', START, 'http', 'HTTP 503 from notes.example');
  await pub.daemon.context.store.sources.recordSuccess('tass-ru', START, { etag: null, lastModified: null });
  return pub;
}

describe('the index page and OPML', () => {
  let pub: Publishing;
  beforeAll(async () => {
    pub = await seeded();
  });
  afterAll(() => pub.stop());

  it('lists every output as an OPML outline', async () => {
    const response = await fetch(`${pub.url}/feeds.opml`);
    expect(response.headers.get('content-type')).toBe('text/x-opml; charset=utf-8');
    const opml = parseXml(await response.text()).opml![0]!;
    expect(attr(opml, 'version')).toBe('2.0');
    const outlines = children(children(opml, 'body')[0]!, 'outline');
    expect(outlines.map((o: Node) => [attr(o, 'text'), attr(o, 'xmlUrl')])).toEqual([
      ['Всё & everything', `${pub.url}/feeds/everything.atom`],
      ['Kazakhstan', `${pub.url}/feeds/kz.atom`],
    ]);
  });

  it('shows a changed source health on the next request', async () => {
    const before = await (await fetch(`${pub.url}/`)).text();
    expect(before).toContain('error: HTTP 503 from notes.example');
    await pub.daemon.context.store.sources.recordSuccess('notes', START + 5000, { etag: null, lastModified: null });
    const after = await (await fetch(`${pub.url}/`)).text();
    expect(after).not.toContain('error: HTTP 503');
    await pub.daemon.context.store.sources.recordFailure('notes', START, 'http', 'HTTP 503 from notes.example');
  });
});

describeInBrowser('the index page and a feed in a real browser', () => {
  let pub: Publishing;
  let browser: Browser;
  beforeAll(async () => {
    pub = await seeded();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await pub?.stop();
  });

  it('shows each output with its description, subscribe links, entry count and latest entries, and source health', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${pub.url}/`);
    expect(await page.title()).toBe('newsloom feeds');
    const kz = page.locator('#output-kz');
    expect(await kz.locator('h3').textContent()).toBe('Kazakhstan');
    expect(await kz.locator('.count').textContent()).toBe('2 entries');
    expect(await kz.locator('.latest li a').allTextContents()).toEqual(['Токаев провёл встречу <b>в Астане</b>', 'Notes on the steppe']);
    expect(await Promise.all((await kz.locator('.formats a').all()).map(async (a) => [await a.textContent(), await a.getAttribute('href')]))).toEqual([
      ['Atom', `${pub.url}/feeds/kz.atom`],
      ['RSS', `${pub.url}/feeds/kz.rss`],
      ['JSON Feed', `${pub.url}/feeds/kz.json`],
    ]);
    const everything = page.locator('#output-everything');
    expect(await everything.locator('p').first().textContent()).toBe('Every item, "quoted" & <escaped>');
    expect(await everything.locator('.count').textContent()).toBe('3 entries');
    const health = await Promise.all((await page.locator('#health tbody tr').all()).map(async (row) => (await row.locator('td').allTextContents()).slice(0, 3)));
    expect(health).toEqual([
      ['ТАСС', 'ok', '1'],
      ['notes', 'error: HTTP 503 from notes.example', '2'],
    ]);
    const discovery = await Promise.all((await page.locator('link[rel="alternate"]').all()).map(async (l) => `${await l.getAttribute('type')} ${await l.getAttribute('title')}`));
    expect(discovery).toEqual([
      'application/atom+xml Всё & everything',
      'application/rss+xml Всё & everything (RSS)',
      'application/feed+json Всё & everything (JSON Feed)',
      'application/atom+xml Kazakhstan',
      'application/rss+xml Kazakhstan (RSS)',
      'application/feed+json Kazakhstan (JSON Feed)',
      'text/x-opml All feeds (OPML)',
    ]);
    await page.close();
  });

  it('shows a feed opened in the browser as a readable page, through the XSLT stylesheet', async () => {
    const page = await browser.context.newPage();
    for (const format of ['atom', 'rss']) {
      await page.goto(`${pub.url}/feeds/kz.${format}`);
      expect(await page.locator('#feed-title').textContent(), format).toBe('Kazakhstan');
      expect(await page.locator('#feed-address').textContent()).toBe(`${pub.url}/feeds/kz.${format}`);
      expect(await page.locator('article.entry h2 a').allTextContents()).toEqual(['Токаев провёл встречу <b>в Астане</b>', 'Notes on the steppe']);
      expect(await page.locator('article.entry b').count()).toBe(0);
      // An entry whose author is its source names it once.
      expect(await page.locator('article.entry .meta').first().textContent(), format).toMatch(/^ТАСС ·\s*(?!ТАСС)/);
    }
    await page.close();
  });
});
