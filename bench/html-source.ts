// What scraping and full articles cost: a list page of 50 items and their article pages (windows-1251,
// with menus, share widgets and scripts), read by the html source kind through the whole pipeline,
// and the CPU per page of each step on its own. Everything runs against a local server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'cheerio/slim';
import { parseConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { openPipeline } from '../src/daemon.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { sanitize } from '../src/pipeline/sanitize.ts';
import { extractArticle } from '../src/sources/article.ts';
import { parseSourceDate } from '../src/sources/dates.ts';
import { scrapeHtml } from '../src/sources/html.ts';
import { runIfMain, type BenchResult } from './lib.ts';

const ITEMS = 50;
const cp1251 = (text: string) => Buffer.from(Array.from(text, (c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x410 + 0xc0 : c.charCodeAt(0) < 128 ? c.charCodeAt(0) : 0x3f)));
const chrome = (body: string) =>
  `<!DOCTYPE html><html><head><meta charset="windows-1251"><title>Новости</title><script>var a = 1;</script></head><body>` +
  `<header><nav>${'<a href="/r">Рубрика</a> '.repeat(30)}</nav></header>${body}<footer>${'<p>Подвал сайта</p>'.repeat(10)}</footer></body></html>`;
const listPage = chrome(
  `<div class="news-list">${Array.from({ length: ITEMS }, (_, i) => `<div class="news-item"><span class="date">${(i % 28) + 1} января 2022, 14:05</span><h3><a href="/news/${i}.html">Новость номер ${i} о Казахстане</a></h3><p class="lead">Краткое описание новости ${i}.</p></div>`).join('')}</div>`,
);
const articlePage = (i: number) =>
  chrome(
    `<article><div class="share"><a href="https://vk.com/share">ВКонтакте</a><script>share()</script></div><div class="article-body">` +
      `${'<p>Текст статьи, абзац с <a href="/x">ссылкой</a> и <b>выделением</b>.</p>'.repeat(25)}<img src="/img/${i}.jpg"><script>ads()</script></div></article>`,
  );

const spec = { item: '.news-item', title: { selector: 'h3' }, link: { selector: 'h3 a', attr: 'href' }, date: { selector: '.date' }, summary: { selector: '.lead' } };
const fullText = { selector: '.article-body', remove: ['.share', 'script'] };

function perOp(fn: () => void, ms = 400): number {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    fn();
    n++;
  }
  return ((performance.now() - start) / n) * 1000;
}

export async function run(): Promise<BenchResult> {
  const server = http.createServer((req, res) => {
    const match = /^\/news\/(\d+)\.html$/.exec(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html' }).end(cp1251(match ? articlePage(Number(match[1])) : listPage));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-'));
  try {
    const config = parseConfig(
      `storage: { path: "${path.join(dir, 'bench.db')}" }
sources:
  - id: site
    url: "${url}/news/"
    kind: html
    timezone: Europe/Moscow
    html: { item: .news-item, title: h3, link: "h3 a@href", date: .date, summary: .lead }
    full_text: { selector: .article-body, remove: [.share, script] }
`,
      'bench.yaml',
      {},
    );
    const ctx = await openPipeline(config, silentLogger);
    const started = performance.now();
    // A poll fetches at most ARTICLES_PER_POLL articles; the next polls fetch the rest.
    let polls = 0;
    do {
      await pollSource(ctx, config.sources[0]!);
      polls++;
    } while ((await ctx.store.articles.due('site', Number.MAX_SAFE_INTEGER)).length > 0 && polls < 10);
    const firstPolls = performance.now() - started;
    const again = performance.now();
    await pollSource(ctx, config.sources[0]!);
    const steady = performance.now() - again;
    await ctx.store.close();

    const article = articlePage(1);
    const extracted = extractArticle(article, fullText)!;
    const now = Date.now();
    return {
      name: 'html source: list page + full articles',
      figures: [
        { label: `polls until ${ITEMS} items and articles stored (${polls} polls)`, value: firstPolls, unit: 'ms' },
        { label: `a later poll of the unchanged ${ITEMS}-item list`, value: steady, unit: 'ms' },
        { label: `scrape a ${ITEMS}-item list page`, value: perOp(() => scrapeHtml(listPage, `${url}/news/`, spec)), unit: 'µs', yardstick: { label: 'cheerio load alone', value: perOp(() => load(listPage)), unit: 'µs' } },
        { label: 'extract one article (selector, remove)', value: perOp(() => extractArticle(article, fullText)), unit: 'µs' },
        { label: 'sanitize one article body', value: perOp(() => sanitize(extracted, `${url}/news/1.html`)), unit: 'µs' },
        { label: 'read one printed date ("10 января 2022, 14:05", Moscow)', value: perOp(() => parseSourceDate('10 января 2022, 14:05', { timeZone: 'Europe/Moscow', now })), unit: 'µs' },
      ],
    };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
