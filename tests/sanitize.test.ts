import { readFileSync } from 'node:fs';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { normalize } from '../src/pipeline/normalize.ts';
import { htmlToText } from '../src/text/html.ts';
import { sanitize } from '../src/pipeline/sanitize.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { unsafeParts } from './helpers/xss.ts';

const VECTORS = readFileSync(new URL('fixtures/xss-vectors.txt', import.meta.url), 'utf8').split('\n').filter(Boolean);
const BASE = 'https://site.example/news/2022/01/10/story.html';

describe('the sanitizer', () => {
  it('is tested with vectors that are each unsafe as sent', () => {
    for (const vector of VECTORS) expect(unsafeParts(vector), vector).not.toEqual([]);
  });

  it('leaves nothing unsafe of any vector', () => {
    for (const vector of VECTORS) expect(unsafeParts(sanitize(vector, BASE)), vector).toEqual([]);
  });

  it('keeps the text, links, images and structure of an ordinary article, with absolute URLs', () => {
    const html =
      '<h2>Talks in Astana</h2><p>The <strong>CSTO</strong> met <a href="/csto/">in Astana</a>.</p>' +
      '<figure><img src="../img/photo.jpg" alt="Photo" width="640" height="360"><figcaption>Delegates</figcaption></figure>' +
      '<blockquote cite="/quotes/1"><p>Quote</p></blockquote><ul><li>One</li></ul><a href="mailto:desk@site.example">Write to us</a>' +
      '<picture><source srcset="/img/a.webp 1x, /img/b.webp 2x" type="image/webp"><img src="/img/a.jpg" alt=""></picture>';
    expect(sanitize(html, BASE)).toBe(
      '<h2>Talks in Astana</h2><p>The <strong>CSTO</strong> met <a href="https://site.example/csto/" rel="noopener noreferrer">in Astana</a>.</p>' +
        '<figure><img src="https://site.example/news/2022/01/img/photo.jpg" alt="Photo" width="640" height="360" /><figcaption>Delegates</figcaption></figure>' +
        '<blockquote cite="https://site.example/quotes/1"><p>Quote</p></blockquote><ul><li>One</li></ul><a href="mailto:desk@site.example" rel="noopener noreferrer">Write to us</a>' +
        '<picture><source srcset="https://site.example/img/a.webp 1x, https://site.example/img/b.webp 2x" type="image/webp" /><img src="https://site.example/img/a.jpg" alt="" /></picture>',
    );
  });

  it('keeps tables, players with http(s) sources and the attributes readers use, and still nothing live', () => {
    const html =
      '<table><caption>Results</caption><colgroup><col span="2"></colgroup><thead><tr><th scope="col" colspan="2" lang="ru" dir="ltr">Итог</th></tr></thead>' +
      '<tbody><tr><td rowspan="2" title="votes">51</td><td style="color:red" onclick="x()">49</td></tr></tbody></table>' +
      '<audio controls autoplay src="/pod/ep1.mp3" onplay="steal()"></audio>' +
      '<video controls poster="javascript:alert(1)" width="640" height="360"><source src="/v/a.mp4" type="video/mp4"><source src="data:video/mp4;base64,AAAA" type="video/mp4"><track src="/v/a.vtt" kind="captions" srclang="en"></video>' +
      '<video src="javascript:alert(1)"></video><form action="/x"><input name="q"></form><iframe src="https://evil.example/"></iframe><frameset><frame src="https://evil.example/"></frameset>';
    const out = sanitize(html, BASE);
    expect(out).toBe(
      '<table><caption>Results</caption><colgroup><col span="2" /></colgroup><thead><tr><th scope="col" colspan="2" lang="ru" dir="ltr">Итог</th></tr></thead>' +
        '<tbody><tr><td rowspan="2" title="votes">51</td><td>49</td></tr></tbody></table>' +
        '<audio controls src="https://site.example/pod/ep1.mp3"></audio>' +
        '<video controls width="640" height="360"><source src="https://site.example/v/a.mp4" type="video/mp4" /><source type="video/mp4" /><track src="https://site.example/v/a.vtt" kind="captions" srclang="en" /></video>' +
        '<video controls></video>',
    );
    expect(unsafeParts(out)).toEqual([]);
  });

  it('keeps images inlined as raster data: URLs, and no other data: URL', () => {
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    expect(sanitize(`<img src="${png}" alt="dot">`, BASE)).toBe(`<img src="${png}" alt="dot" />`);
    expect(sanitize('<img src="data:image/svg+xml,<svg onload=alert(1)>" alt="x">', BASE)).toBe('');
    expect(sanitize('<a href="data:image/png;base64,AAAA">x</a>', BASE)).toBe('<a rel="noopener noreferrer">x</a>');
  });
});

describe('plain-text summaries (no markup, as TASS sends them)', () => {
  // They skip the HTML parser; what is stored must be exactly what sanitizing their paragraphs would store.
  const plain = [
    'Tokayev calls for talks, a source said.',
    'AT&T < 5 > 3 & "quoted" \'single\' &amp; already escaped',
    '  first paragraph\n\n\nsecond   paragraph  \n',
    'Токаев призвал к переговорам — «цитата» & ещё',
    '   ',
  ];
  it('store the same HTML and text as sanitized paragraphs of escaped text', () => {
    for (const text of plain) {
      const paragraphs = text.split(/\n{2,}/).map((p) => `<p>${p.trim().replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</p>`).join('');
      const item = normalize({ summary: text, content: text }, { sourceId: 's', language: null, baseUrl: BASE, now: 0 });
      expect(item.summaryHtml, text).toBe(sanitize(paragraphs, BASE));
      expect(item.contentHtml, text).toBe(sanitize(paragraphs, BASE));
      expect(item.summaryText, text).toBe(htmlToText(sanitize(paragraphs, BASE)));
    }
  });

  it('still go through the sanitizer when they hold any tag', () => {
    const item = normalize({ summary: 'Hello <script>alert(1)</script><b onclick="x()">bold</b>' }, { sourceId: 's', language: null, baseUrl: BASE, now: 0 });
    expect(item.summaryHtml).toBe('Hello <b>bold</b>');
    expect(item.summaryText).toBe('Hello bold');
  });
});

describe('XSS in source content never reaches stored or published HTML', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;
  const atom = new Parser<object, { summary?: string; content?: string }>({ customFields: { item: ['summary'] } });

  const json = { 'content-type': 'application/json' };
  const html = { 'content-type': 'text/html; charset=utf-8' };

  beforeAll(async () => {
    server = await startFixtureServer();
    const feedItems = VECTORS.map(
      (vector, i) =>
        `<item><title>Vector ${i}</title><link>https://feed.example/${i}</link><guid>v${i}</guid><pubDate>Mon, 10 Jan 2022 10:00:00 GMT</pubDate>` +
        `<description><![CDATA[${vector} summary ${i}]]></description><content:encoded><![CDATA[<p>Story ${i}</p>${vector}]]></content:encoded></item>`,
    );
    server.set('/feed.xml', {
      body: `<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Vectors</title><link>https://feed.example/</link>${feedItems.join('')}</channel></rss>`,
    });
    const cards = VECTORS.map((vector, i) => `<div class="card"><a class="t" href="/a/${i}">Card ${i}</a><div class="lead"><p>Lead ${i}</p>${vector}</div></div>`);
    server.set('/list', { body: `<!DOCTYPE html><html><head><title>Site</title></head><body>${cards.slice(0, 3).join('')}</body></html>`, headers: html });
    for (const i of [0, 1, 2]) {
      server.set(`/a/${i}`, { body: `<!DOCTYPE html><html><body><div class="body"><p>Article ${i}</p>${VECTORS.join('\n')}</div></body></html>`, headers: html });
    }
    server.set('/api/?page=1', {
      body: JSON.stringify({ next: null, results: VECTORS.map((vector, i) => ({ id: i, slug: `s${i}`, title: `Entry ${i}`, short_description: vector })) }),
      headers: json,
    });
    for (const i of VECTORS.keys()) server.set(`/api/s${i}/`, { body: JSON.stringify({ description: `<p>Detail ${i}</p>${VECTORS.join('')}` }), headers: json });
    setup = testConfig(`
sources:
  - { id: feed, url: "${server.url}/feed.xml" }
  - id: site
    url: "${server.url}/list"
    kind: html
    html: { item: .card, title: a.t, link: a.t@href, summary: .lead }
    full_text: { selector: .body }
  - id: api
    url: "${server.url}/api/?page=1"
    kind: json
    json:
      items: results
      fields: { title: title, link: "https://api.example/{slug}", summary: short_description }
      detail: { url: "${server.url}/api/{slug}/", content: description }
`);
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false });
    // More articles than one poll fetches: the rest come on the next polls.
    for (let poll = 0; poll < 3; poll++) {
      for (const source of daemon.context.config.sources) expect((await pollSource(daemon.context, source)).status).not.toBe('error');
    }
    expect(await daemon.context.store.articles.due('api', Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  afterAll(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('stores only safe HTML, and still the safe content around the vectors', async () => {
    const items = await daemon.context.store.items.list({ limit: 500 });
    expect(items).toHaveLength(VECTORS.length * 2 + 3);
    for (const item of items) {
      expect(unsafeParts(item.summaryHtml), `${item.title} summary`).toEqual([]);
      expect(unsafeParts(item.contentHtml), `${item.title} content`).toEqual([]);
    }
    const byTitle = (title: string) => items.find((i) => i.title === title)!;
    const onload = VECTORS.indexOf('<img src="https://ok.example/a.jpg" onload="alert(1)">');
    expect(byTitle(`Vector ${onload}`).contentHtml).toBe(`<p>Story ${onload}</p><img src="https://ok.example/a.jpg" />`);
    expect(byTitle('Card 1').contentText).toMatch(/^Article 1 /);
    expect(byTitle('Entry 9').contentText).toMatch(/^Detail 9 /);
  });

  it('publishes only safe HTML in the Atom feeds served over HTTP', async () => {
    for (const source of ['feed', 'site', 'api']) {
      const response = await fetch(`${daemon.url}/sources/${source}.atom`);
      expect(response.status).toBe(200);
      const feed = await atom.parseString(await response.text());
      expect(feed.items.length).toBeGreaterThan(0);
      for (const entry of feed.items) {
        expect(entry.content, `${source}: ${entry.title}`).toBeTruthy();
        expect(unsafeParts(entry.content ?? ''), `${source}: ${entry.title} content`).toEqual([]);
        expect(unsafeParts(entry.summary ?? ''), `${source}: ${entry.title} summary`).toEqual([]);
      }
    }
  });
});
