import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PollResult } from '../src/pipeline/ingest.ts';
import { housekeep } from '../src/scheduler/housekeeping.ts';
import { fetchAtom } from './helpers/atom.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const DAY = 86_400_000;
const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const rss = (items: string) => `<?xml version="1.0"?><rss version="2.0"><channel><title>X</title>${items}</channel></rss>`;
const rssItem = (title: string, link: string, guid?: string, date = Date.parse('2021-12-24T09:00:00Z')) =>
  `<item><title>${title}</title><link>${link}</link>${guid ? `<guid>${guid}</guid>` : ''}<pubDate>${new Date(date).toUTCString()}</pubDate><description>${title}.</description></item>`;

describe.each(ENGINES)('the same item, across polls and past retention (%s)', (engine) => {
  const use = useEngine(engine);
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;
  // The fixture items are from December 2021; each test's clock starts two days later.
  let clock: number;

  const poll = (): Promise<PollResult> => pollSource(daemon.context, daemon.context.config.sources[0]!);
  /** The TASS fixture with one more item on top, published now, so that the feed changed and is parsed again rather than answered with 304. */
  const tassPlus = (n: number) =>
    fixture('tass-en.xml').replace('<item>', `${rssItem(`Extra item ${n}`, `https://tass.com/world/99${n}`, `https://tass.com/world/99${n}`, clock)}\n<item>`);
  const titles = async () => (await fetchAtom(`${daemon.url}/sources/tass-en.atom`)).entries.map((e) => e.title);

  beforeEach(async () => {
    clock = Date.parse('2021-12-25T00:00:00Z');
    server = await startFixtureServer();
    server.set('/feed.xml', { body: fixture('tass-en.xml') });
    setup = testConfig(`
sources:
  - { id: tass-en, url: "${server.url}/feed.xml" }
retention: { items: 90d, fingerprints: 365d }
`, use.storage());
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false, now: () => clock });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('finds a stored item by its number, its entry id (with or without urn:uuid:, any case) or its URL', async () => {
    await poll();
    const { store } = daemon.context;
    const [newest] = await store.items.list({ limit: 1, everyItem: true });
    const bare = newest!.uid.replace(/^urn:uuid:/, '');
    for (const ref of [String(newest!.id), newest!.uid, bare, bare.toUpperCase(), `  ${newest!.url}  `]) expect(await store.items.find(ref)).toBe(newest!.id);
    expect(await store.items.find('https://tass.com/nowhere')).toBeUndefined();
    expect(await store.items.find('urn:uuid:00000000-0000-5000-8000-000000000000')).toBeUndefined();
  });

  it('keeps a pruned item from coming back as new while its source still lists it', async () => {
    expect(await poll()).toMatchObject({ status: 'ok', new: 10 });
    clock += 100 * DAY;
    expect(await housekeep(daemon.context)).toMatchObject({ items: 10, stories: 10, tombstones: 0 });
    expect(await titles()).toEqual([]);

    server.set('/feed.xml', { body: tassPlus(1) });
    expect(await poll()).toMatchObject({ status: 'ok', new: 1, updated: 0, unchanged: 10 });
    expect(await titles()).toEqual(['Extra item 1']);
  });

  it('forgets a tombstone only once its item has gone unlisted for retention.fingerprints', async () => {
    await poll();
    clock += 100 * DAY;
    await housekeep(daemon.context);

    // Still listed 300 days later: the tombstones are refreshed and survive a prune 400 days after the first one.
    clock += 300 * DAY;
    server.set('/feed.xml', { body: tassPlus(1) });
    expect(await poll()).toMatchObject({ new: 1, unchanged: 10 });
    clock += 100 * DAY;
    expect(await housekeep(daemon.context)).toMatchObject({ items: 1, tombstones: 0 });
    server.set('/feed.xml', { body: tassPlus(2) });
    expect(await poll()).toMatchObject({ new: 1, unchanged: 10 });

    // Then nothing is listed any more. A year later, the 11 items unlisted since are forgotten (a guid and a URL key
    // each); the item pruned in this very run keeps its tombstone for a year from now.
    server.set('/feed.xml', { body: rss('') });
    await poll();
    clock += 366 * DAY;
    expect(await housekeep(daemon.context)).toMatchObject({ items: 1, tombstones: 2 * 11 });
  });

  it('neither publishes nor stores an item already past retention when it arrives, and never takes it for new later', async () => {
    clock = Date.parse('2026-01-01T00:00:00Z');
    expect(await poll()).toMatchObject({ status: 'ok', new: 0, unchanged: 10 });
    expect(await titles()).toEqual([]);
    expect(await daemon.context.store.items.count()).toBe(0);
    // Only their fingerprints are kept: the next fetch knows them, and a fresh item beside them is new.
    clock += DAY;
    server.set('/feed.xml', { body: tassPlus(1) });
    expect(await poll()).toMatchObject({ status: 'ok', new: 1, unchanged: 10 });
    expect(await titles()).toEqual(['Extra item 1']);
  });

  it('updates an item in place when its title or content changed, and moves its updated time', async () => {
    await poll();
    const before = (await fetchAtom(`${daemon.url}/sources/tass-en.atom`)).entries.find((e) => e.title === 'Lavrov to visit Astana next week')!;
    clock += DAY;
    server.set('/feed.xml', { body: fixture('tass-en.xml').replace('Lavrov to visit Astana next week', 'Lavrov to visit Astana on Monday') });
    expect(await poll()).toMatchObject({ new: 0, updated: 1, unchanged: 9 });
    const after = (await fetchAtom(`${daemon.url}/sources/tass-en.atom`)).entries.find((e) => e.title === 'Lavrov to visit Astana on Monday')!;
    expect(after.id).toBe(before.id);
    expect(Date.parse(after.updated)).toBe(clock);
    expect(await titles()).toHaveLength(10);
  });

  it('tells apart items of a feed that repeats one guid, by their URLs', async () => {
    server.set('/feed.xml', { body: rss(rssItem('First', 'https://x.example/1', 'same') + rssItem('Second', 'https://x.example/2', 'same')) });
    expect(await poll()).toMatchObject({ new: 2 });
    expect(new Set(await titles())).toEqual(new Set(['First', 'Second']));
  });

  it('stores an item a feed lists twice once, even with neither guid nor link to tell it by', async () => {
    const bare = (title: string) => `<item><title>${title}</title><description>${title}.</description></item>`;
    server.set('/feed.xml', { body: rss(bare('Twice listed') + bare('Once listed') + bare('Twice listed')) });
    expect(await poll()).toMatchObject({ status: 'ok', new: 2, unchanged: 1 });
    expect(new Set(await titles())).toEqual(new Set(['Twice listed', 'Once listed']));
    clock += DAY;
    server.set('/feed.xml', { body: rss(bare('Twice listed') + bare('Once listed') + bare('Twice listed') + bare('Third')) });
    expect(await poll()).toMatchObject({ status: 'ok', new: 1, unchanged: 3 });
  });

  it('recognises an item again under its www., mobile, AMP or http variant of the URL', async () => {
    server.set('/feed.xml', { body: rss(rssItem('Astana talks', 'https://www.x.example/news/1')) });
    await poll();
    for (const variant of ['https://m.x.example/news/1', 'http://x.example/news/1/amp', 'https://x.example/amp/news/1?amp=1']) {
      server.set('/feed.xml', { body: rss(rssItem('Astana talks', variant)) });
      expect(await poll()).toMatchObject({ status: 'ok', new: 0 });
    }
    expect(await titles()).toEqual(['Astana talks']);
  });
});
