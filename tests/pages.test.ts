import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportSite } from '../src/publish/export.ts';
import { chooseLang } from '../src/publish/language.ts';
import { highlight, queryWords } from '../src/publish/pages/highlight.ts';
import { startNewsroom, NOW, type Newsroom } from './helpers/news.ts';

let pub: Newsroom;
beforeAll(async () => {
  pub = await startNewsroom();
});
afterAll(() => pub.stop());

async function page(pathAndQuery: string, lang = 'en'): Promise<{ status: number; headers: Headers; $: cheerio.CheerioAPI }> {
  const response = await fetch(`${pub.url}${pathAndQuery}`, { headers: { 'accept-language': lang } });
  return { status: response.status, headers: response.headers, $: cheerio.load(await response.text()) };
}

async function feedEntries(feedPath: string): Promise<{ id: string; title: string; language: string }[]> {
  const feed = (await (await fetch(`${pub.url}${feedPath}`)).json()) as { items: { id: string; title: string; language: string }[] };
  return feed.items.map(({ id, title, language }) => ({ id, title, language }));
}

const titles = ($: cheerio.CheerioAPI) => $('article.entry h2').map((_, h) => $(h).text()).get();

describe('the HTML page of a feed', () => {
  it('shows the same entries as its feed, each with its source, date, image, summary, topics and language', async () => {
    for (const feed of ['/feeds/everything', '/feeds/kz', '/feeds/csto', '/topics/csto', '/sources/tass-ru']) {
      const { status, headers, $ } = await page(`${feed}.html?limit=500`);
      expect(status, feed).toBe(200);
      expect(headers.get('content-type')).toBe('text/html; charset=utf-8');
      const entries = await feedEntries(`${feed}.json?limit=500`);
      expect(entries.length, feed).toBeGreaterThan(0);
      expect(titles($), feed).toEqual(entries.map((e) => e.title));
      expect($('article.entry').map((_, a) => $(a).attr('lang')).get(), feed).toEqual(entries.map((e) => e.language));
    }
    const { $ } = await page('/feeds/everything.html');
    const lead = $('article.entry').first();
    expect(lead.find('h2 a').attr('href')).toBe('https://tass-ru.example/news/0');
    expect(lead.find('.meta a').text()).toBe('ТАСС');
    expect(lead.find('.meta a').attr('href')).toBe(`${pub.url}/sources/tass-ru.html`);
    expect(lead.find('time').attr('datetime')).toBe(new Date(NOW - 10 * 60_000).toISOString());
    expect(lead.find('img').attr('src')).toBe(pub.imageUrl);
    expect(lead.find('img').attr('alt')).toBe('');
    expect(lead.find('.summary').text()).toMatch(/^Президент Казахстана Касым-Жомарт Токаев провёл в Астане переговоры/);
    expect(lead.find('.topics a').map((_, a) => [[$(a).text(), $(a).attr('href')]]).get()).toEqual([['Казахстан', `${pub.url}/topics/kazakhstan.html`]]);
  });

  it('lists the story’s other reports under words in the entry’s own language', async () => {
    for (const lang of ['en', 'ru']) {
      const { $ } = await page('/feeds/everything.html', lang);
      const related = $('article.entry .related');
      expect(related.length).toBe(2);
      expect(related.eq(0).closest('article').attr('lang')).toBe('ru');
      expect(related.eq(0).find('p').text()).toBe('Также сообщают:');
      expect(related.eq(0).find('li').text()).toBe('ГСВ «Россия — Исламский мир»: В Астане прошли переговоры Токаева и Мирзиёева');
      expect(related.eq(0).find('a').attr('href')).toBe('https://gsv-ru.example/news/1');
      expect(related.eq(1).closest('article').attr('lang')).toBe('en');
      expect(related.eq(1).find('p').text()).toBe('Also reported by:');
      expect(related.eq(1).find('li').text()).toBe('GSV: CSTO mission in Kazakhstan is over');
    }
  });

  it('prints the author only when it is not the source itself', async () => {
    const { $ } = await page('/sources/tass-ru.html');
    expect($('article.entry .meta').map((_, m) => $(m).text().replace(/ · [^·]*$/, '')).get()).toEqual(['ТАСС', 'ТАСС · Иван Петров']);
  });

  it('links to its feeds in every format and shows the address to copy into a reader', async () => {
    const { $ } = await page('/topics/kazakhstan.html');
    const alternates = $('link[rel="alternate"]').map((_, l) => [[$(l).attr('type'), $(l).attr('href')]]).get();
    expect(alternates).toEqual([
      ['application/atom+xml', `${pub.url}/topics/kazakhstan.atom`],
      ['application/rss+xml', `${pub.url}/topics/kazakhstan.rss`],
      ['application/feed+json', `${pub.url}/topics/kazakhstan.json`],
    ]);
    expect($('#feed-url').attr('value')).toBe(`${pub.url}/topics/kazakhstan.atom`);
    expect($(`label[for="feed-url"]`).text()).toBe('Copy this address into your feed reader:');
    for (const [type, href] of alternates as unknown as [string, string][]) {
      const feed = await fetch(href);
      expect(feed.status).toBe(200);
      expect(feed.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
    }
    // And the feeds point back at the page.
    expect(await (await fetch(`${pub.url}/topics/kazakhstan.atom`)).text()).toContain(`<link rel="alternate" type="text/html" href="${pub.url}/topics/kazakhstan.html"/>`);
  });

  it('pages older and newer, every entry exactly once, and back to the same pages', async () => {
    const all = (await feedEntries('/feeds/everything.json?limit=500')).map((e) => e.title);
    const visited: string[][] = [];
    const urls: string[] = [];
    let next: string | undefined = '/feeds/everything.html?limit=3';
    while (next) {
      urls.push(next);
      const { $ } = await page(next);
      visited.push(titles($));
      const older = $('nav.pages a[rel="next"]').attr('href');
      next = older && older.slice(pub.url.length);
    }
    expect(visited.flat()).toEqual(all);
    expect(visited.length).toBe(Math.ceil(all.length / 3));
    // From the last page, "newer" links lead back through the same pages.
    let back: string | undefined = urls.at(-1);
    for (let i = visited.length - 1; i >= 0; i--) {
      const { $ } = await page(back!);
      expect(titles($)).toEqual(visited[i]);
      const newer = $('nav.pages a[rel="prev"]').attr('href');
      back = newer && newer.slice(pub.url.length);
    }
    expect(back).toBeUndefined();
  });

  it('speaks the reader’s language, English or Russian, and keeps the entries’ own words', async () => {
    expect(chooseLang('ru-RU,ru;q=0.9,en;q=0.8')).toBe('ru');
    expect(chooseLang('de, en;q=0.5, ru;q=0.4')).toBe('en');
    expect(chooseLang('fr')).toBe('en');
    expect(chooseLang(undefined)).toBe('en');
    const ru = await page('/feeds/kz.html', 'ru-RU,ru;q=0.9');
    expect(ru.$('html').attr('lang')).toBe('ru');
    expect(ru.headers.get('content-language')).toBe('ru');
    expect(ru.headers.get('vary')).toContain('Accept-Language');
    expect(ru.$('#subscribe-title').text()).toBe('Подписаться');
    expect(ru.$('header button').text()).toBe('Найти');
    const en = await page('/feeds/kz.html', 'en-GB');
    expect(en.$('html').attr('lang')).toBe('en');
    expect(en.$('#subscribe-title').text()).toBe('Subscribe');
    expect(titles(en.$)).toEqual(titles(ru.$));
  });

  it('answers a bad parameter with 400 and an unknown page with 404', async () => {
    expect((await fetch(`${pub.url}/feeds/kz.html?limit=zero`)).status).toBe(400);
    expect((await fetch(`${pub.url}/feeds/kz.html?back=nonsense`)).status).toBe(400);
    expect((await fetch(`${pub.url}/feeds/nope.html`)).status).toBe(404);
  });
});

describe('the search page', () => {
  it('shows the count of results and marks the words searched for', async () => {
    const { $ } = await page('/search.html?q=astana%20Kazakh*');
    const found = await feedEntries('/search.json?q=astana%20Kazakh*&limit=500');
    expect($('#result-count').text()).toBe(`${found.length} results for “astana Kazakh*”`);
    expect(titles($)).toEqual(found.map((e) => e.title).slice(0, 50));
    expect($('article.entry').first().find('mark').map((_, m) => $(m).text()).get()).toEqual(['Astana', 'Astana', 'Kazakhstan']);
    expect($('#search-q').attr('value')).toBe('astana Kazakh*');
    expect($('#feed-url').attr('value')).toBe(`${pub.url}/search.atom?q=astana+Kazakh*`);
    const ru = await page('/search.html?q=%D0%A2%D0%BE%D0%BA%D0%B0%D0%B5%D0%B2', 'ru');
    // The two reports of one story are one result.
    expect(ru.$('#result-count').text()).toBe('1 результат по запросу «Токаев»');
  });

  it('says nothing was found, with hints about the query syntax', async () => {
    const { status, $ } = await page('/search.html?q=zanzibar');
    expect(status).toBe(200);
    expect($('#nothing-found').text()).toBe('Nothing found for “zanzibar”.');
    expect($('article.entry').length).toBe(0);
    expect($('.hints li').length).toBeGreaterThan(2);
    expect($('.hints').text()).toContain('"quoted words"');
    expect($('.hints').text()).toContain('OR');
  });

  it('explains a search that cannot run, and shows the box and hints when nothing was asked', async () => {
    const bad = await page('/search.html?q=%22%22');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(bad.$('#search-error').text()).toBe('This search cannot be run: q cannot be read: the quotes "" hold no word');
    expect(bad.$('.hints').length).toBe(1);
    const empty = await page('/search.html');
    expect(empty.status).toBe(200);
    expect(empty.$('article.entry').length).toBe(0);
    expect(empty.$('.hints').length).toBe(1);
    expect(empty.$('form[role="search"] input[name="q"]').length).toBe(1);
  });

  it('marks a word’s other forms and prefixes, never a word the query excludes', () => {
    expect(highlight('Токаев <b> в Астане, Astana & Kazakhs', queryWords('астана Astana kazakh* -токаев'))).toBe(
      'Токаев &lt;b&gt; в <mark>Астане</mark>, <mark>Astana</mark> &amp; <mark>Kazakhs</mark>',
    );
    expect(queryWords('"Collective Security" OR NOT csto')).toEqual([
      { word: 'collective', prefix: false },
      { word: 'security', prefix: false },
    ]);
  });
});

describe('the index page', () => {
  it('shows for each output the number of entries its feed holds', async () => {
    const { $ } = await page('/');
    const outputs = ['everything', 'kz', 'csto', 'kz-calm', 'tass-kz'];
    for (const id of outputs) {
      const entries = await feedEntries(`/feeds/${id}.json?limit=500`);
      expect(entries.length, id).toBeGreaterThan(0);
      expect($(`#output-${id} .count`).text(), id).toBe(`${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`);
    }
    // One entry per story: the two reposts are not entries of their own, except in an output of every item.
    expect(await pub.daemon.context.store.items.count()).toBe(14);
    expect($('#output-everything .count').text()).toBe('12 entries');
    expect($('#output-csto .count').text()).toBe('3 entries');
    expect($('#output-kz h3 a').attr('href')).toBe(`${pub.url}/feeds/kz.html`);
  });

  it('shows each source’s health in the reader’s language', async () => {
    const { $ } = await page('/', 'ru');
    const rows = $('#health tbody tr').map((_, tr) => [$(tr).find('td').map((_, td) => $(td).text()).get().slice(0, 2)]).get();
    expect(rows).toContainEqual(['GSV', 'ошибка: HTTP 503 from gsv-en.example']);
    expect(rows).toContainEqual(['ГСВ «Россия — Исламский мир»', 'ещё не опрашивался']);
    expect($('#output-everything .count').text()).toBe('12 записей');
  });
});

describe('newsloom export', () => {
  it('writes the same pages, without a search box', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-export-'));
    try {
      const { config, store } = pub.daemon.context;
      const files = await exportSite({ config, store, baseUrl: 'https://news.example', maxAgeSeconds: 60, static: true }, dir);
      expect(files).toEqual(expect.arrayContaining(['index.html', 'feeds/kz.html', 'topics/csto.html', 'sources/tass-ru.html', 'feeds/kz.atom']));
      const $ = cheerio.load(readFileSync(path.join(dir, 'feeds/everything.html'), 'utf8'));
      expect(titles($).length).toBe(12);
      expect($('#feed-url').attr('value')).toBe('https://news.example/feeds/everything.atom');
      expect($('form').length).toBe(0);
      const index = cheerio.load(readFileSync(path.join(dir, 'index.html'), 'utf8'));
      expect(index('form').length).toBe(0);
      expect(index('#output-kz h3 a').attr('href')).toBe('https://news.example/feeds/kz.html');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Last: it stores another item.
describe('the index page’s counts', () => {
  it('counts entries once per change of the store, not at every render', async () => {
    const { store } = pub.daemon.context;
    const counting = vi.spyOn(store.items, 'countEntries');
    try {
      await fetch(`${pub.url}/`);
      // Source health moves the page, not its counts.
      await store.sources.recordFailure('tass-en', NOW + 1000, 'timeout', 'no answer from tass-en.example in 30 s');
      const { $ } = await page('/');
      expect($('#health tr.error').length).toBe(2);
      await fetch(`${pub.url}/`, { headers: { 'accept-language': 'ru' } });
      expect(counting).not.toHaveBeenCalled();
      // A new entry moves them.
      await pub.add({ sourceId: 'tass-en', title: 'Astana airport opens a new terminal', url: 'https://tass-en.example/news/new' }, ['kazakhstan'], NOW);
      const after = await page('/');
      expect(counting).toHaveBeenCalledTimes(5);
      expect(after.$('#output-kz .count').text()).toBe('13 entries');
    } finally {
      counting.mockRestore();
      await store.sources.recordSuccess('tass-en', NOW, { etag: null, lastModified: null });
    }
  });
});
