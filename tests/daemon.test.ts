import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PollResult } from '../src/pipeline/ingest.ts';
import { fetchAtom } from './helpers/atom.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
// The topics of the default config: the tests check the rules maintainers actually ship.
const defaultTopics = readFileSync(new URL('../config/newsloom.yaml', import.meta.url), 'utf8').split(/^topics:\n/m)[1]!.split(/^outputs:/m)[0]!;

describe('the daemon end to end', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;

  const poll = async (): Promise<Record<string, PollResult>> => {
    const results = await Promise.all(daemon.context.config.sources.map((s) => pollSource(daemon.context, s)));
    return Object.fromEntries(results.map((r) => [r.sourceId, r]));
  };
  const titles = async (path: string) => (await fetchAtom(`${daemon.url}${path}`)).entries.map((e) => e.title);

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: fixture('tass-en.xml') });
    server.set('/tass-ru.xml', { body: fixture('tass-ru.xml') });
    server.set('/blog.atom', { body: fixture('blog.atom'), headers: { 'content-type': 'application/atom+xml' } });
    setup = testConfig(`
sources:
  - { id: tass-en, title: TASS, url: "${server.url}/tass-en.xml", language: en }
  - { id: tass-ru, title: ТАСС, url: "${server.url}/tass-ru.xml", language: ru }
  - { id: notes, title: Central Asia Notes, url: "${server.url}/blog.atom" }
topics:
${defaultTopics}
outputs:
  - { id: kazakhstan, title: Kazakhstan, topics: [kazakhstan] }
  - { id: both, title: Kazakhstan and CSTO, topics: [kazakhstan, csto] }
  - { id: tass-csto, title: CSTO from TASS, topics: [csto], sources: [tass-en, tass-ru] }
`);
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('publishes exactly the items each topic output should hold, in English and Russian', async () => {
    const results = await poll();
    expect(results['tass-en']).toMatchObject({ status: 'ok', new: 10 });
    expect(results['tass-ru']).toMatchObject({ status: 'ok', new: 8 });
    expect(results.notes).toMatchObject({ status: 'ok', new: 3 });

    expect(new Set(await titles('/feeds/kazakhstan.atom'))).toEqual(
      new Set([
        'Tokayev calls unrest in Kazakhstan a coup attempt',
        'CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13',
        'Putin holds phone talks with Kazakh President',
        'Lavrov to visit Astana next week',
        'Токаев назвал беспорядки в Казахстане попыткой государственного переворота',
        'Миротворцы ОДКБ завершили миссию в Казахстане',
        'Встреча президентов пройдет в Астане',
        'Алматинские власти отменили режим ЧП',
        'A quiet week in the steppe',
      ]),
    );
    expect(new Set(await titles('/topics/csto.atom'))).toEqual(
      new Set([
        'CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13',
        'Collective Security Treaty Organization holds drills in Tajikistan',
        'Миротворцы ОДКБ завершили миссию в Казахстане',
        'Генсек Организации Договора о коллективной безопасности провел встречу в Минске',
      ]),
    );
    const both = await titles('/feeds/both.atom');
    expect(both).toHaveLength(11);
    expect(new Set(both).size).toBe(both.length);
    expect(both).not.toContain('Kazan to host international summit on Islamic finance');
    expect(both).not.toContain('Казаки провели парад в Краснодаре');
    expect(new Set(await titles('/feeds/tass-csto.atom'))).toEqual(
      new Set([
        'CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13',
        'Collective Security Treaty Organization holds drills in Tajikistan',
        'Миротворцы ОДКБ завершили миссию в Казахстане',
        'Генсек Организации Договора о коллективной безопасности провел встречу в Минске',
      ]),
    );
    expect(await titles('/sources/tass-ru.atom')).toHaveLength(8);
  });

  it('lists entries newest first, with stable ids, links and category terms', async () => {
    await poll();
    const feed = await fetchAtom(`${daemon.url}/sources/tass-en.atom`);
    expect(feed.entries[0]!.title).toBe('Tokayev calls unrest in Kazakhstan a coup attempt');
    expect(feed.entries.at(-1)!.title).toBe('Cossack ensemble performs in Moscow');
    expect(feed.entries[0]!.link).toBe('https://tass.com/world/1380000');
    expect(feed.entries[0]!.id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(feed.body).toContain(`<category term="kazakhstan" scheme="${daemon.url}/topics/" label="Kazakhstan"/>`);
    expect(feed.body).toContain(`<link rel="self" type="application/atom+xml" href="${daemon.url}/sources/tass-en.atom"/>`);

    const again = await fetchAtom(`${daemon.url}/sources/tass-en.atom`);
    expect(again.entries.map((e) => e.id)).toEqual(feed.entries.map((e) => e.id));
  });

  it('answers an unchanged feed with 304 and parses nothing', async () => {
    await poll();
    const second = await poll();
    expect(second['tass-en']).toMatchObject({ status: 'not-modified', new: 0 });
    const conditional = server.requests.filter((r) => r.path === '/tass-en.xml').at(-1)!;
    expect(conditional.headers['if-none-match']).toBeTruthy();
    expect(await titles('/sources/tass-en.atom')).toHaveLength(10);
  });

  it('shows an item repeated across two polls once, and updates it in place when it changed', async () => {
    await poll();
    const before = await fetchAtom(`${daemon.url}/sources/tass-en.atom`);
    // The next version of the feed: one new item on top, one item's title corrected, the rest as before.
    const next = fixture('tass-en.xml')
      .replace('Lavrov to visit Astana next week', 'Lavrov to visit Astana on Monday')
      .replace(
        '<item>',
        `<item><title><![CDATA[Kazakhstan lifts state of emergency]]></title><link><![CDATA[https://tass.com/world/1389999]]></link><guid><![CDATA[https://tass.com/world/1389999]]></guid><pubDate>Fri, 24 Dec 2021 09:00:00 +0300</pubDate><description><![CDATA[The emergency regime ended on Friday.]]></description></item>\n<item>`,
      );
    server.set('/tass-en.xml', { body: next });
    const results = await poll();
    expect(results['tass-en']).toMatchObject({ status: 'ok', new: 1, updated: 1, unchanged: 9 });

    const after = await fetchAtom(`${daemon.url}/sources/tass-en.atom`);
    expect(after.entries).toHaveLength(11);
    expect(after.entries[0]!.title).toBe('Kazakhstan lifts state of emergency');
    const lavrovBefore = before.entries.find((e) => e.title === 'Lavrov to visit Astana next week')!;
    const lavrovAfter = after.entries.find((e) => e.title === 'Lavrov to visit Astana on Monday')!;
    expect(lavrovAfter.id).toBe(lavrovBefore.id);
    expect(after.entries.filter((e) => e.title.startsWith('Lavrov'))).toHaveLength(1);
  });

  it('recognises the same item by canonical URL when the guid is missing', async () => {
    const noGuid = (tracking: string) =>
      `<?xml version="1.0"?><rss version="2.0"><channel><title>X</title><item><title>Astana talks</title><link>https://x.example/a?id=1${tracking}</link><pubDate>Fri, 24 Dec 2021 09:00:00 GMT</pubDate></item></channel></rss>`;
    server.set('/tass-en.xml', { body: noGuid('&amp;utm_source=rss') });
    await poll();
    server.set('/tass-en.xml', { body: noGuid('&amp;fbclid=abc#top') });
    const second = await poll();
    expect(second['tass-en']).toMatchObject({ status: 'ok', new: 0 });
    expect(await titles('/sources/tass-en.atom')).toEqual(['Astana talks']);
  });

  it('keeps the other sources and the server going when one feed is malformed', async () => {
    server.set('/tass-ru.xml', { body: '<rss><channel><item><title>broken' });
    const results = await poll();
    expect(results['tass-ru']).toMatchObject({ status: 'error', error: { kind: 'parse' } });
    expect(results['tass-en']).toMatchObject({ status: 'ok', new: 10 });
    expect(await titles('/sources/tass-en.atom')).toHaveLength(10);
    const health = (await daemon.context.store.sources.get('tass-ru'))!;
    expect(health.errorCount).toBe(1);
    expect(health.errorMessage).toMatch(/not a valid RSS or Atom feed/);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
  });

  it('gives undated items the time they were first seen, and resolves relative links', async () => {
    await poll();
    const notes = await fetchAtom(`${daemon.url}/sources/notes.atom`);
    expect(notes.entries.map((e) => e.title)).toEqual(['Undated post', 'A quiet week in the steppe', 'Recipes from the bazaar']);
    expect(notes.entries[2]!.link).toBe('https://notes.example/2021/12/recipes');
    expect(notes.body).not.toContain('<script');
  });

  it('answers 404 for unknown feeds and 405 for other methods', async () => {
    expect((await fetch(`${daemon.url}/topics/nope.atom`)).status).toBe(404);
    expect((await fetch(`${daemon.url}/feeds/kazakhstan.atom`, { method: 'POST' })).status).toBe(405);
    const index = await (await fetch(`${daemon.url}/`)).text();
    expect(index).toContain(`<link rel="alternate" type="application/atom+xml" title="Kazakhstan" href="${daemon.url}/feeds/kazakhstan.atom">`);
  });
});
