import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HtmlSpec } from '../src/config/schema.ts';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { scrapeHtml } from '../src/sources/html.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { capturingLogger } from './helpers/log.ts';

// A regional Russian news site: windows-1251 pages (declared only in <meta>), Russian dates, article pages
// wrapped in menus, share widgets, ad scripts and counters.
const page = (name: string) => readFileSync(new URL(`fixtures/ru-site/${name}`, import.meta.url));
const ARTICLES = ['tokaev-nazval-besporyadki-popytkoy-perevorota', 'mirotvortsy-odkb', 'v-kazani-otkrylas-vystavka', 'sovet-muftiev'];
const articlePath = (slug: string) => `/news/2022/01/${slug.startsWith('v-kazani') || slug.startsWith('sovet') ? '09' : '10'}/${slug}.html`;
const html = { 'content-type': 'text/html' };
const encoder = new TextDecoder('windows-1251');

describe('an HTML source with full articles', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;
  let logs: ReturnType<typeof capturingLogger>;
  // 15:00 in Moscow on 10 January 2022: "сегодня" is the 10th, "вчера" the 9th.
  let clock = Date.UTC(2022, 0, 10, 12, 0);

  const poll = () => pollSource(daemon.context, daemon.context.config.sources[0]!);
  const items = async () => await daemon.context.store.items.list({ limit: 50 });
  const articleRequests = () => server.requests.filter((r) => r.path.startsWith('/news/2022/'));

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/news/', { body: page('news.html'), headers: html });
    for (const slug of ARTICLES) server.set(articlePath(slug), { body: page(`${slug}.html`), headers: html });
    setup = testConfig(`
sources:
  - id: vesti
    title: Вести Поволжья
    url: "${server.url}/news/"
    kind: html
    language: ru
    timezone: Europe/Moscow
    html:
      item: .news-list .news-item
      title: .news-item__title
      link: .news-item__title a@href
      date: .news-item__date
      summary: .news-item__lead
      image: { selector: img.news-item__img, attr: src }
    full_text:
      selector: .article__text
      remove: [.share, .incut-banner, script]
topics:
  - { id: kazakhstan, any: [Казахстан*, Токаев*, Астан*, Алмат*] }
  - { id: csto, any: [ОДКБ, Организации Договора о коллективной безопасности] }
outputs:
  - { id: kazakhstan, title: Казахстан, topics: [kazakhstan] }
`);
    logs = capturingLogger();
    clock = Date.UTC(2022, 0, 10, 12, 0);
    daemon = await startDaemon(setup.config, logs.log, { schedule: false, now: () => clock });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('turns a windows-1251 list page into items with Russian titles, absolute links and Moscow dates', async () => {
    expect(await poll()).toMatchObject({ status: 'ok', new: 4 });
    const stored = (await items());
    expect(stored.map((i) => [i.title, i.url, new Date(i.publishedAt).toISOString()])).toEqual([
      ['Токаев назвал беспорядки попыткой государственного переворота', `${server.url}/news/2022/01/10/tokaev-nazval-besporyadki-popytkoy-perevorota.html`, '2022-01-10T11:05:00.000Z'],
      ['Миротворцы ОДКБ начнут отвод контингента 13 января', `${server.url}/news/2022/01/10/mirotvortsy-odkb.html`, '2022-01-10T08:40:00.000Z'],
      ['В Казани открылась выставка исламского искусства', `${server.url}/news/2022/01/09/v-kazani-otkrylas-vystavka.html`, '2022-01-09T15:20:00.000Z'],
      ['Совет муфтиев провел заседание', `${server.url}/news/2022/01/09/sovet-muftiev.html`, '2022-01-09T06:15:00.000Z'],
    ]);
    expect(stored[0]!.image).toBe(`${server.url}/upload/iblock/a1/tokaev.jpg`);
    expect(stored[1]!.image).toBeNull();
    expect(stored[0]!.summaryText).toBe('Президент выступил на заседании Совета коллективной безопасности.');
    expect(logs.messages()).toEqual([]);
  });

  it('takes each item\'s content from its article page, without share widgets, ads or scripts', async () => {
    await poll();
    const tokayev = (await items())[0]!;
    expect(tokayev.contentText).toBe(
      'Президент Казахстана Касым-Жомарт Токаев назвал беспорядки в стране попыткой государственного переворота. ' +
        'По его словам, действия боевиков координировались из единого центра. Хроника событий. ' +
        'Заседание Совета коллективной безопасности ' +
        'Токаев поблагодарил партнеров по ОДКБ за оперативную помощь.',
    );
    expect(tokayev.contentHtml).toContain(`<a href="${server.url}/news/2022/01/07/hronika.html" rel="noopener noreferrer">Хроника событий</a>`);
    expect(tokayev.contentHtml).toContain(`<img src="${server.url}/upload/medialibrary/0a1/tokaev-sovbez.jpg" alt="Заседание" />`);
    for (const item of (await items())) {
      expect(item.contentHtml).not.toMatch(/Поделиться|ВКонтакте|adfox|iframe|<script|Читайте также|Вести Поволжья/);
    }
    // The body, not the list, is what names Almaty and the CSTO here.
    const exhibition = (await items()).find((i) => i.title.startsWith('В Казани'))!;
    expect(exhibition.topics).toEqual(['kazakhstan']);
    expect((await items()).find((i) => i.title.startsWith('Миротворцы'))!.topics).toEqual(['csto', 'kazakhstan']);
    const atom = await (await fetch(`${daemon.url}/feeds/kazakhstan.atom`)).text();
    expect(atom).toContain('привезенные из Алматы');
  });

  it('fetches each article once, however often the list is polled', async () => {
    await poll();
    expect(articleRequests()).toHaveLength(4);
    server.set('/news/', { body: Buffer.concat([page('news.html'), Buffer.from('<!-- 0.031s -->')]), headers: html });
    clock += 600_000;
    expect(await poll()).toMatchObject({ status: 'ok', new: 0, updated: 0, unchanged: 4 });
    expect(articleRequests()).toHaveLength(4);
    expect((await items())[0]!.contentText).toContain('Токаев поблагодарил партнеров');
  });

  it('keeps an item whose article fails with its summary, says so, and retries on a later poll', async () => {
    const slug = 'sovet-muftiev';
    server.set(articlePath(slug), { status: 500, body: 'Internal Server Error' });
    expect(await poll()).toMatchObject({ status: 'ok', new: 4 });
    const waiting = (await items()).find((i) => i.title === 'Совет муфтиев провел заседание')!;
    expect(waiting.summaryText).toBe('Обсуждались итоги года.');
    expect(waiting.contentHtml).toBe('');
    expect(logs.messages()).toEqual([expect.stringMatching(new RegExp(`^vesti: article ${server.url}${articlePath(slug)}: HTTP 500.*keeping the summary, retrying after`))]);

    server.set(articlePath(slug), { body: page(`${slug}.html`), headers: html });
    clock += 3_600_000;
    expect(await poll()).toMatchObject({ status: 'ok', updated: 1, unchanged: 3 });
    expect((await items()).find((i) => i.title === 'Совет муфтиев провел заседание')!.contentText).toBe('Совет муфтиев подвел итоги года и обсудил планы на 2022 год.');
  });

  it('reports a redesigned list page as an error on the source, not as "no new items"', async () => {
    await poll();
    const redesigned = encoder.decode(page('news.html')).replaceAll('news-item', 'card').replaceAll('news-list', 'feed-grid');
    server.set('/news/', { body: redesigned, headers: { 'content-type': 'text/html; charset=utf-8' } });
    clock += 600_000;
    const result = await poll();
    expect(result).toMatchObject({ status: 'error', error: { kind: 'parse' } });
    expect(result.error!.message).toBe(`the item selector ".news-list .news-item" found nothing on ${server.url}/news/: has the site's layout changed?`);
    const health = (await daemon.context.store.sources.get('vesti'))!;
    expect(health.errorCount).toBe(1);
    expect((await items())).toHaveLength(4);
  });

  it('reports a title or link selector that finds nothing as an error, and a date that does as a warning', async () => {
    const renamedTitles = encoder.decode(page('news.html')).replaceAll('news-item__title', 'headline');
    server.set('/news/', { body: renamedTitles, headers: { 'content-type': 'text/html; charset=utf-8' } });
    const result = await poll();
    expect(result).toMatchObject({ status: 'error' });
    expect(result.error!.message).toBe(
      'the title selector ".news-item__title" found nothing in any of the 4 items; the link selector ".news-item__title a@href" found nothing in any of the 4 items: has the site\'s layout changed?',
    );

    const noDates = encoder.decode(page('news.html')).replaceAll('news-item__date', 'meta');
    server.set('/news/', { body: noDates, headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(await poll()).toMatchObject({ status: 'ok', new: 4 });
    expect(logs.messages()).toContain('vesti: the date selector ".news-item__date" found nothing in any of the 4 items');
    // Undated items get the time they were first seen.
    expect((await items()).every((i) => i.publishedAt === clock)).toBe(true);
  });

  it('warns about a date it cannot read, naming the source and the text, and uses the time first seen', async () => {
    const odd = encoder.decode(page('news.html')).replace('09.01.2022 09:15', 'в прошлую пятницу');
    server.set('/news/', { body: odd, headers: { 'content-type': 'text/html; charset=utf-8' } });
    await poll();
    expect(logs.messages()).toContain('vesti: cannot read the date "в прошлую пятницу" of "Совет муфтиев провел заседание"; using the time it was first seen');
    expect((await items()).find((i) => i.title === 'Совет муфтиев провел заседание')!.publishedAt).toBe(clock);
  });
});

describe('scraping a list page', () => {
  const scrape = (html: string, spec: Partial<HtmlSpec>) => scrapeHtml(html, 'https://site.example/news/', { item: '.i', title: { selector: 'a' }, link: { selector: 'a', attr: 'href' }, ...spec });

  it('reads each field from the first match inside its own item, nested items included', () => {
    const page = scrape('<div class="i"><p><b class="t">deep first</b></p><b class="t">second</b><a href="1">x</a></div><div class="i"><b class="t">outer</b><div class="i"><b class="t">inner</b><a href="/2">y</a></div></div>', {
      title: { selector: '.t' },
    });
    expect(page.items.map((i) => [i.title, i.url])).toEqual([
      ['deep first', 'https://site.example/news/1'],
      ['outer', undefined],
      ['inner', 'https://site.example/2'],
    ]);
  });

  it('reads the attributes a field usually lives in, and attributes of the item itself', () => {
    const page = scrape(
      '<base href="https://cdn.site.example/"><a class="i" href="/a/1" title="Headline"><time datetime="2022-01-10T14:05:00+03:00">10 января</time><img data-src="p/1.jpg"><span class="lead">AT&amp;T &lt;3</span></a>',
      { title: { selector: '', attr: 'title' }, link: { selector: '', attr: 'href' }, date: { selector: 'time' }, image: { selector: 'img' }, summary: { selector: '.lead' } },
    );
    expect(page.items).toEqual([
      { title: 'Headline', url: 'https://cdn.site.example/a/1', published: '2022-01-10T14:05:00+03:00', image: 'https://cdn.site.example/p/1.jpg', summary: 'AT&T <3' },
    ]);
    expect(page.misses).toEqual([]);
  });

  it('makes links in a summary absolute against the list page, not the item page', () => {
    const page = scrape('<div class="i"><a href="/a/1/story.html">T</a><div class="lead"><p>See <a href="photos.html">photos</a></p></div></div>', { summary: { selector: '.lead' } });
    expect(page.items[0]!.summary).toBe('<p>See <a href="https://site.example/news/photos.html">photos</a></p>');
  });
});
