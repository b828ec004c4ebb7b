import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePipeline, openPipeline } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PipelineContext, type PollResult } from '../src/pipeline/ingest.ts';
import { pollOnce } from '../src/scheduler/scheduler.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { encode, endless, gzipBomb, silent, trickle } from './helpers/hostile.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));
const MiB = 1024 * 1024;

const feed = (title: string, prolog = '<?xml version="1.0"?>') =>
  `${prolog}\n<rss version="2.0"><channel><title>t</title><link>https://example.org/</link><item><title>${title}</title><link>https://example.org/1</link><guid>g1</guid><pubDate>Fri, 24 Dec 2021 09:00:00 GMT</pubDate></item></channel></rss>`;

const RUSSIAN = 'Токаев: в Казахстане всё спокойно';
const WESTERN = 'Café déjà vu — naïve façade';
const CHARSETS: { charset: string; label: string; title: string }[] = [
  { charset: 'windows-1251', label: 'windows-1251', title: RUSSIAN },
  { charset: 'koi8-r', label: 'KOI8-R', title: RUSSIAN },
  { charset: 'iso-8859-5', label: 'ISO-8859-5', title: RUSSIAN },
  { charset: 'windows-1252', label: 'windows-1252', title: WESTERN },
  { charset: 'utf-16le', label: 'UTF-16', title: RUSSIAN },
  { charset: 'utf-16be', label: 'UTF-16BE', title: WESTERN },
];
const MODES = ['header', 'prolog', 'wrong-utf8'] as const;

/** A feed in a charset, declared in the HTTP header only, in the XML prolog only, or wrongly declared UTF-8 in both. */
function charsetRoute(charset: string, label: string, title: string, mode: (typeof MODES)[number]) {
  const prolog = mode === 'header' ? '<?xml version="1.0"?>' : `<?xml version="1.0" encoding="${mode === 'prolog' ? label : 'UTF-8'}"?>`;
  const type = mode === 'prolog' ? 'application/rss+xml' : `application/rss+xml; charset=${mode === 'header' ? label : 'utf-8'}`;
  return { body: encode(feed(title, prolog), charset), headers: { 'content-type': type } };
}

const CHALLENGE = '<html><head><title>Just a moment...</title></head><body><div id="challenge-platform">Checking your browser</div></body></html>';

// Feeds are prepared on the spot (one-shot commands) or on the background thread (the daemon): both must say the same.
describe.each([
  ['on the spot', false],
  ['on the background thread, as the daemon does', true],
])('fetching from hostile servers, feeds prepared %s', (_, workers) => {
  let good: FixtureServer;
  let strict: FixtureServer;
  let setup: TestConfig;
  let ctx: PipelineContext;
  // 64 GiB of zeros in about 64 MiB of gzip.
  const bomb = gzipBomb(64 * 1024 * MiB);
  const flood = endless(Buffer.alloc(64 * 1024, '<item><title>again</title></item>'), {}, 256 * MiB);

  beforeAll(async () => {
    good = await startFixtureServer();
    // A second host:port, so that its Retry-After must not touch the first.
    strict = await startFixtureServer();
    good.set('/tass-en.xml', { body: fixture('tass-en.xml') });
    good.set('/tass-ru.xml', { body: fixture('tass-ru.xml') });
    good.set('/slow.xml', trickle(1_000));
    good.set('/silent.xml', silent());
    good.set('/endless.xml', flood.route);
    good.set('/bomb.xml', bomb.route);
    good.set('/page.html', {
      body: `<!doctype html><html><head><title>News</title><link rel="alternate" type="application/rss+xml" title="All news" href="/rss/v2.xml"><link rel="alternate" type="application/atom+xml" href="https://feeds.example.org/atom"><link rel="stylesheet" href="/s.css"></head><body>hello</body></html>`,
      headers: { 'content-type': 'text/html; charset=utf-8' },
    });
    good.set('/challenge.xml', { body: CHALLENGE, headers: { 'content-type': 'text/html' } });
    good.set('/sitemap.xml', { body: '<?xml version="1.0"?>\n<!-- pages --><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://example.org/</loc></url></urlset>' });
    good.set('/text.xml', { body: '{"items": []}', headers: { 'content-type': 'application/json' } });
    good.set('/loop-a.xml', { status: 302, headers: { location: '/loop-b.xml' } });
    good.set('/loop-b.xml', { status: 301, headers: { location: '/loop-a.xml' } });
    good.set('/error.xml', { status: 500, body: 'oops' });
    good.set('/gone.xml', { status: 410, body: 'gone' });
    good.set('/empty.xml', { body: '' });
    good.set('/control.xml', { body: feed('Astana\u0001 talks\u000b resume') });
    good.set('/bot.xml', {
      handler: (req, res) => {
        const browser = /Mozilla/.test(req.headers['user-agent'] ?? '') && /xml/.test(req.headers.accept ?? '');
        if (browser) res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(fixture('tass-en.xml'));
        else res.writeHead(403, { 'content-type': 'text/html' }).end(CHALLENGE);
      },
    });
    strict.set('/busy.xml', { status: 429, body: 'slow down', headers: { 'retry-after': '120' } });
    strict.set('/other.xml', { body: fixture('tass-en.xml') });
    for (const { charset, label, title } of CHARSETS) {
      for (const mode of MODES) good.set(`/${charset}-${mode}.xml`, charsetRoute(charset, label, title, mode));
    }

    const source = (id: string, url: string, extra = '') => `  - { id: ${id}, url: "${url}"${extra} }`;
    setup = testConfig(`
# Limits the healthy sources meet with room to spare on a busy machine; the stalling routes pass them by far.
fetch: { timeout: 5s, connect_timeout: 3s, max_bytes: 1MiB, per_host: 64, host_gap: 0s }
sources:
${[
  source('tass-en', `${good.url}/tass-en.xml`),
  source('tass-ru', `${good.url}/tass-ru.xml`),
  source('slow', `${good.url}/slow.xml`),
  source('silent', `${good.url}/silent.xml`),
  source('endless', `${good.url}/endless.xml`),
  source('bomb', `${good.url}/bomb.xml`),
  source('page', `${good.url}/page.html`),
  source('text', `${good.url}/text.xml`),
  source('challenge', `${good.url}/challenge.xml`),
  source('sitemap', `${good.url}/sitemap.xml`),
  source('loop', `${good.url}/loop-a.xml`),
  source('error', `${good.url}/error.xml`),
  source('gone', `${good.url}/gone.xml`),
  source('empty', `${good.url}/empty.xml`),
  source('control', `${good.url}/control.xml`),
  source('bot', `${good.url}/bot.xml`),
  source('browser', `${good.url}/bot.xml`, ', user_agent: "Mozilla/5.0 (X11; Linux x86_64)", headers: { Accept: "application/rss+xml" }'),
  source('busy', `${strict.url}/busy.xml`),
  source('other', `${strict.url}/other.xml`),
  ...CHARSETS.flatMap(({ charset }) => MODES.map((mode) => source(`${charset}-${mode}`, `${good.url}/${charset}-${mode}.xml`))),
].join('\n')}
`);
    ctx = await openPipeline(setup.config, silentLogger, Date.now, { workers });
  });

  afterAll(async () => {
    await closePipeline(ctx);
    await Promise.all([good.close(), strict.close()]);
    setup.cleanup();
  });

  const poll = async (ids: string[]): Promise<Record<string, PollResult>> => {
    const sources = setup.config.sources.filter((s) => ids.includes(s.id));
    const results = await pollOnce(sources, (s) => pollSource(ctx, s));
    return Object.fromEntries(results.map((r) => [r.sourceId, r]));
  };
  const titles = async (id: string) => (await ctx.store.items.list({ sources: [id], limit: 50 })).map((i) => i.title);

  it('diagnoses every misbehaving server in one poll while the healthy sources ingest, with memory staying flat', async () => {
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const results = await poll(['tass-en', 'tass-ru', 'slow', 'silent', 'endless', 'bomb', 'page', 'text', 'challenge', 'sitemap', 'loop', 'error', 'gone', 'empty', 'bot']);
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;

    expect(results['tass-en']).toMatchObject({ status: 'ok', new: 10 });
    expect(results['tass-ru']).toMatchObject({ status: 'ok', new: 8 });
    expect(await titles('tass-ru')).toContain('Миротворцы ОДКБ завершили миссию в Казахстане');

    const error = (id: string) => results[id]!.error!;
    expect(error('slow')).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/^the answer from 127\.0\.0\.1:\d+ took longer than 5s$/) as string });
    expect(error('silent')).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/^no answer from 127\.0\.0\.1:\d+ within 3s \(connect and first byte\)$/) as string });
    expect(error('endless')).toMatchObject({ kind: 'too-large', message: 'the body is larger than 1 MiB' });
    expect(error('bomb')).toMatchObject({ kind: 'too-large', message: 'the decompressed body is larger than 1 MiB' });
    expect(error('page')).toMatchObject({ kind: 'not-a-feed' });
    expect(error('page').message).toBe(
      `${good.url}/page.html is an HTML page, not a feed; set this source's url to the feed it advertises: ${good.url}/rss/v2.xml ("All news"), https://feeds.example.org/atom`,
    );
    expect(error('text')).toMatchObject({ kind: 'not-a-feed', message: expect.stringMatching(/is not XML \(Content-Type application\/json\), so not a feed; it starts with "\{\\"items\\": \[\]\}"$/) as string });
    expect(error('challenge')).toMatchObject({ kind: 'blocked', message: expect.stringMatching(/answered with a bot-protection page \(Cloudflare\) instead of the feed/) as string });
    expect(error('sitemap')).toMatchObject({ kind: 'not-a-feed', message: expect.stringMatching(/is an XML document of another kind \(<urlset>\), not an RSS or Atom feed$/) as string });
    expect(error('loop')).toMatchObject({ kind: 'redirect', message: `redirect loop: ${good.url}/loop-a.xml → ${good.url}/loop-b.xml → ${good.url}/loop-a.xml` });
    expect(error('error')).toMatchObject({ kind: 'http', message: expect.stringMatching(/^HTTP 500 Internal Server Error from 127\.0\.0\.1:\d+: the site has a server error/) as string });
    expect(error('gone')).toMatchObject({ kind: 'gone', message: expect.stringMatching(/^HTTP 410 Gone from .*: the feed is gone for good/) as string });
    expect(error('empty')).toMatchObject({ kind: 'not-a-feed', message: expect.stringMatching(/^HTTP 200 from 127\.0\.0\.1:\d+ with an empty body/) as string });
    expect(error('bot')).toMatchObject({ kind: 'blocked', message: expect.stringMatching(/HTTP 403 Forbidden from .*: blocked by bot protection \(Cloudflare\); give this source a browser-like user_agent/) as string });

    // Each failure is kept on its source for the maintainer.
    const gone = (await ctx.store.sources.get('gone'))!;
    expect(gone).toMatchObject({ errorKind: 'gone', errorCount: 1 });
    expect(gone.firstErrorAt).toBe(gone.lastErrorAt);

    // The client hung up early: neither the endless body nor the bomb was sent whole, let alone held in memory.
    expect(flood.sent()).toBeLessThan(flood.limit / 4);
    expect(bomb.sent()).toBeLessThan(bomb.limit / 4);
    expect(peakGrowth).toBeLessThan(100 * MiB);
  });

  it('gets past bot protection with the browser-like User-Agent and XML Accept of the config', async () => {
    const results = await poll(['bot', 'browser']);
    expect(results.bot).toMatchObject({ status: 'error', error: { kind: 'blocked' } });
    expect(results.browser).toMatchObject({ status: 'ok', new: 10 });
  });

  it('honours Retry-After for that host and port only', async () => {
    const first = await poll(['busy']);
    expect(first.busy!.error).toMatchObject({ kind: 'rate-limited', message: expect.stringMatching(/^HTTP 429 Too Many Requests from .*: too many requests, retrying after \d{4}-\d\d-\d\d \d\d:\d\d UTC$/) as string });
    const retryAt = first.busy!.error!.retryAt!;
    expect(retryAt).toBeGreaterThan(Date.now() + 100_000);

    const requestsBefore = strict.requests.length;
    const second = await poll(['other', 'tass-en']);
    expect(second.other!.error).toMatchObject({ kind: 'rate-limited', retryAt, message: expect.stringMatching(/asked us to wait until .* \(Retry-After\)/) as string });
    expect(strict.requests.length).toBe(requestsBefore);
    expect(second['tass-en']!.status).not.toBe('error');
  });

  it('decodes each charset whether declared in the header, in the prolog, or wrongly as UTF-8', async () => {
    const ids = CHARSETS.flatMap(({ charset }) => MODES.map((mode) => `${charset}-${mode}`));
    const results = await poll(ids);
    for (const { charset, title } of CHARSETS) {
      for (const mode of MODES) {
        const id = `${charset}-${mode}`;
        expect({ id, status: results[id]!.status, error: results[id]!.error?.message, titles: await titles(id) }).toEqual({ id, status: 'ok', error: undefined, titles: [title] });
      }
    }
  });

  it('drops characters XML forbids instead of failing the feed', async () => {
    const results = await poll(['control']);
    expect(results.control).toMatchObject({ status: 'ok', new: 1 });
    expect(await titles('control')).toEqual(['Astana talks resume']);
  });
});
