import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { fill, valueAt } from '../src/sources/json.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const API = 'https://api.rusislworld.ru';
const fixtureDir = new URL('fixtures/gsv/', import.meta.url);
const shipped = parse(readFileSync(new URL('../config/newsloom.yaml', import.meta.url), 'utf8')) as {
  sources: { id: string }[];
  topics: unknown[];
};

describe('a JSON API source shaped like GSV (the shipped gsv-en config)', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;
  let clock: number;

  const serve = (path: string, file: string) => server.set(path, { body: readFileSync(new URL(file, fixtureDir), 'utf8').replaceAll(API, server.url), headers: { 'content-type': 'application/json' } });
  const detailPath = (slug: string) => `/articles/${slug}/`;
  const detailRequests = () => server.requests.filter((r) => /^\/articles\/[a-z-]+\/$/.test(r.path)).map((r) => r.path);
  const poll = () => pollSource(daemon.context, daemon.context.config.sources[0]!);
  const items = async () => await daemon.context.store.items.list({ limit: 50 });

  beforeEach(async () => {
    server = await startFixtureServer();
    for (const page of [1, 2, 3]) serve(`/articles/?lang=en&page=${page}`, `articles-page-${page}.json`);
    for (const file of readdirSync(fixtureDir).filter((f) => f.startsWith('article-'))) serve(detailPath(file.slice('article-'.length, -'.json'.length)), file);
    const gsv = shipped.sources.find((s) => s.id === 'gsv-en');
    const yaml = stringify({ sources: [gsv], topics: shipped.topics, outputs: [{ id: 'kazakhstan', title: 'Kazakhstan', topics: ['kazakhstan'] }] });
    setup = testConfig(yaml.replaceAll(API, server.url));
    clock = Date.UTC(2022, 0, 10, 12, 0);
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false, now: () => clock });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('reads the pages it is allowed to, with links, dates and each article body from the detail endpoint', async () => {
    expect(await poll()).toMatchObject({ status: 'ok', new: 5 });
    expect(server.requests.some((r) => r.path === '/articles/?lang=en&page=3')).toBe(false);

    const stored = (await items());
    expect(stored.map((i) => i.title)).toEqual([
      'Tokayev called the unrest in Kazakhstan a coup attempt',
      'The Group of Strategic Vision met in Kazan',
      'Interview with the ambassador',
      'Conference on Islamic finance',
      'New Year greetings',
    ]);
    const tokayev = stored[0]!;
    expect(tokayev.url).toBe('https://rusislworld.ru/articles/tokayev-called-the-unrest-in-kazakhstan-a-coup-attempt');
    expect(tokayev.guid).toBe('412');
    expect(new Date(tokayev.publishedAt).toISOString()).toBe('2022-01-10T11:05:00.000Z');
    expect(tokayev.image).toBe(`${server.url}/media/articles/412/preview.jpg`);
    expect(tokayev.summaryText).toBe('The President of Kazakhstan addressed the nation.');
    expect(tokayev.contentText).toContain('attempted coup d\'état coordinated from a single centre');
    expect(tokayev.contentText).toContain('Based on materials from TASS');
    expect(tokayev.contentHtml).toContain(`<img src="${server.url}/media/uploads/2022/01/10/tokayev.jpg" alt="Tokayev" />`);
    expect(stored[2]!.contentHtml).toBe('<p>The ambassador spoke about education and culture.</p>');
  });

  it('tags items by their full body, not only the list summary', async () => {
    await poll();
    // Only the body of this article mentions Astana.
    const kazan = (await items()).find((i) => i.title === 'The Group of Strategic Vision met in Kazan')!;
    expect(kazan.topics).toEqual(['kazakhstan']);
    const feed = await (await fetch(`${daemon.url}/feeds/kazakhstan.atom`)).text();
    expect(feed).toContain('The Group of Strategic Vision met in Kazan');
    expect(feed).toContain('delegates from Astana also attended');
  });

  it('fetches each article body once, and keeps it on later polls', async () => {
    await poll();
    expect(detailRequests()).toHaveLength(5);
    // An hour later one more article is on top of the first page.
    const page = JSON.parse(server.routes.get('/articles/?lang=en&page=1')!.body as string) as { results: object[] };
    page.results.unshift({ id: 413, title: 'Astana hosts a round table', slug: 'astana-round-table', short_description: 'Experts met.', category: null, preview_image_url: null, created: '2022-01-10T15:30:00+03:00' });
    server.set('/articles/?lang=en&page=1', { body: JSON.stringify(page), headers: { 'content-type': 'application/json' } });
    server.set(detailPath('astana-round-table'), { body: JSON.stringify({ id: 413, slug: 'astana-round-table', description: '<p>Experts from Astana and Kazan met.</p>' }), headers: { 'content-type': 'application/json' } });
    clock += 3_600_000;
    expect(await poll()).toMatchObject({ status: 'ok', new: 1, updated: 0, unchanged: 5 });
    expect(detailRequests()).toHaveLength(6);
    expect(detailRequests().at(-1)).toBe(detailPath('astana-round-table'));
    expect((await items())[0]!.contentText).toBe('Experts from Astana and Kazan met.');
    expect((await items())[1]!.contentText).toContain('Based on materials from TASS');
  });

  it('keeps an item whose body cannot be fetched with its summary, and fills it in on a later poll', async () => {
    const slug = 'conference-on-islamic-finance';
    const body = server.routes.get(detailPath(slug))!.body!;
    server.set(detailPath(slug), { status: 503, body: 'maintenance' });
    expect(await poll()).toMatchObject({ status: 'ok', new: 5 });
    const waiting = (await items()).find((i) => i.title === 'Conference on Islamic finance')!;
    expect(waiting.contentHtml).toBe('');
    expect(waiting.summaryText).toBe('Held in Moscow.');

    // Still failing, and not yet due: the retry waits for its backoff.
    clock += 60_000;
    await poll();
    expect(detailRequests().filter((p) => p === detailPath(slug))).toHaveLength(1);

    server.set(detailPath(slug), { body, headers: { 'content-type': 'application/json' } });
    clock += 3_600_000;
    expect(await poll()).toMatchObject({ status: 'ok', new: 0, updated: 1, unchanged: 4 });
    const filled = (await items()).find((i) => i.title === 'Conference on Islamic finance')!;
    expect(filled.contentText).toBe('The conference gathered bankers from twelve countries.');
    expect(filled.uid).toBe(waiting.uid);
    expect(await daemon.context.store.articles.due('gsv-en', Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it('reports a changed API (no list where the config says) as an error on the source', async () => {
    server.set('/articles/?lang=en&page=1', { body: JSON.stringify({ data: { articles: [] } }), headers: { 'content-type': 'application/json' } });
    const result = await poll();
    expect(result).toMatchObject({ status: 'error', error: { kind: 'parse' } });
    expect(result.error!.message).toMatch(/the list path "results" is not a list/);
    expect((await daemon.context.store.sources.get('gsv-en'))!.errorMessage).toMatch(/results/);
  });

  it('reports fields that are gone from every item as an error, naming the path', async () => {
    for (const page of [1, 2]) {
      const renamed = readFileSync(new URL(`articles-page-${page}.json`, fixtureDir), 'utf8').replaceAll('"title"', '"heading"').replaceAll('"slug"', '"path"');
      server.set(`/articles/?lang=en&page=${page}`, { body: renamed.replaceAll(API, server.url), headers: { 'content-type': 'application/json' } });
    }
    const result = await poll();
    expect(result).toMatchObject({ status: 'error', error: { kind: 'parse' } });
    expect(result.error!.message).toContain('the title path "title" found nothing in any of the 5 items');
    expect(result.error!.message).toContain('the link path "https://rusislworld.ru/articles/{slug}" found nothing');
  });
});

describe('JSON paths and templates', () => {
  const entry = { id: 7, slug: 'a-b', title: ' Title ', category: { name: 'News' }, tags: [{ name: 'CSTO' }, { name: 'Kazakhstan' }], images: [{ url: '/i/1.jpg' }], empty: null };

  it('reads dotted paths, list indexes, and a name across a list', () => {
    expect(valueAt(entry, 'category.name')).toBe('News');
    expect(valueAt(entry, 'images.0.url')).toBe('/i/1.jpg');
    expect(valueAt(entry, 'tags.name')).toEqual(['CSTO', 'Kazakhstan']);
    expect(valueAt(entry, 'empty.name')).toBeUndefined();
    expect(valueAt(entry, 'missing.deeper')).toBeUndefined();
  });

  it('fills templates, and gives nothing rather than a broken URL when a value is missing', () => {
    expect(fill(entry, 'title')).toBe('Title');
    expect(fill(entry, 'id')).toBe('7');
    expect(fill(entry, 'https://rusislworld.ru/articles/{slug}')).toBe('https://rusislworld.ru/articles/a-b');
    expect(fill(entry, 'https://x.example/{id}/{ slug }/')).toBe('https://x.example/7/a-b/');
    expect(fill(entry, 'https://x.example/{uuid}')).toBeUndefined();
  });
});
