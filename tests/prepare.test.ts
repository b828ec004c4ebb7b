import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundThread } from '../src/background.ts';
import { inlinePreparer, PrepareError, workerPreparer, type PrepareJob } from '../src/pipeline/prepare.ts';
import { openStore } from '../src/store/store.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { createTestDatabase, TEST_DATABASE_URL } from './helpers/engines.ts';
import { searchFor } from './helpers/search.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));
const NOW = Date.UTC(2026, 5, 1);

const job = (body: Uint8Array, extra: Partial<PrepareJob> = {}): PrepareJob => ({
  sourceId: 'tass-en',
  language: 'en',
  timeZone: 'Europe/Moscow',
  body,
  contentType: 'application/rss+xml; charset=utf-8',
  url: 'https://tass.com/rss/v2.xml',
  now: NOW,
  withRaw: false,
  ...extra,
});

/** A big feed: many items with long descriptions. */
function bigFeed(items: number): Buffer {
  const item = (i: number) =>
    `<item><title>Item ${i}</title><link>https://example.org/${i}</link><description>${'word '.repeat(2_000)}</description></item>`;
  return Buffer.from(`<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>${Array.from({ length: items }, (_, i) => item(i)).join('')}</channel></rss>`);
}

describe('preparing fetched feeds on the background thread', () => {
  let background: BackgroundThread;

  beforeEach(() => {
    background = new BackgroundThread();
  });
  afterEach(async () => {
    await background.close();
  });

  it('gives the same items as preparing on the spot, raw items included when asked', async () => {
    const preparer = workerPreparer(background);
    for (const name of ['tass-en.xml', 'tass-ru.xml']) {
      const there = await preparer.prepare(job(fixture(name), { withRaw: true }));
      const here = await inlinePreparer.prepare(job(fixture(name), { withRaw: true }));
      expect(there.items.length).toBeGreaterThan(0);
      expect(there).toEqual(here);
    }
    const plain = await preparer.prepare(job(fixture('tass-en.xml')));
    expect(plain.raws).toBeUndefined();
  });

  it('hands the body over, and gives it back with a parse error', async () => {
    const preparer = workerPreparer(background);
    const page = Buffer.from('<!doctype html><html><head><title>News</title></head><body>not a feed</body></html>');
    // A buffer of its own (small Buffer.from() copies share a pool, and those are copied rather than moved).
    const body = Buffer.alloc(page.length);
    page.copy(body);
    const failure = preparer.prepare(job(body, { contentType: 'text/html' }));
    // Moved, not copied: the thread owns the bytes now.
    expect(body.byteLength).toBe(0);
    const err = (await failure.catch((e: unknown) => e)) as PrepareError;
    expect(err).toBeInstanceOf(PrepareError);
    expect(err.message).toBe('the response is an HTML page, not a feed');
    expect(err.body.equals(page)).toBe(true);
  });

  it('fails a feed that takes too long, and prepares the next one on a fresh thread', async () => {
    const slow = workerPreparer(background, { timeoutMs: 1 });
    const err = (await slow.prepare(job(bigFeed(2_000))).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(PrepareError);
    expect(err.message).toBe('the feed could not be parsed: parsing it took longer than 0 s');
    const next = await workerPreparer(background).prepare(job(fixture('tass-en.xml')));
    expect(next.items.length).toBeGreaterThan(0);
  });

  it('fails a feed that needs more memory than the thread may use, and prepares the next one', async () => {
    await background.close();
    background = new BackgroundThread({ maxHeapMb: 48 });
    const preparer = workerPreparer(background);
    const err = (await preparer.prepare(job(bigFeed(4_000))).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(PrepareError);
    expect(err.message).toBe('the feed could not be parsed: it needed more memory than the background thread may use');
    const next = await preparer.prepare(job(fixture('tass-ru.xml'), { sourceId: 'tass-ru', language: 'ru' }));
    expect(next.items.length).toBeGreaterThan(0);
  }, 30_000);

  it('keeps the search index on the same thread, through a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-prepare-'));
    const store = await openStore({ path: path.join(dir, 'newsloom.db') }, { background });
    try {
      connectionOf(store).prepare(`INSERT INTO sources (id, url) VALUES ('tass-en', 'https://tass.com/rss/v2.xml')`).run();
      const { items } = await workerPreparer(background).prepare(job(fixture('tass-en.xml')));
      await store.transaction(async (tx) => {
        for (const [i, item] of items.entries()) await tx.items.insert(item, `urn:uuid:${i}`, NOW);
      });
      await store.search.settled();
      const word = items[0]!.title.split(/\s+/).find((w) => /^[a-z]{5,}$/i.test(w))!;
      expect((await store.items.list({ search: searchFor(word), limit: 50 })).map((i) => i.title)).toContain(items[0]!.title);
      // A hung feed restarts the thread; the index goes on with what comes after.
      await workerPreparer(background, { timeoutMs: 1 }).prepare(job(bigFeed(2_000))).catch(() => undefined);
      connectionOf(store).prepare(`UPDATE items SET title = 'Zhetysu floods' WHERE id = 1`).run();
      // A write past the store: settled() still has the worker look.
      await store.search.settled();
      expect((await store.items.list({ search: searchFor('zhetysu'), limit: 5 })).map((i) => i.title)).toEqual(['Zhetysu floods']);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!TEST_DATABASE_URL)('prepares feeds beside a PostgreSQL store, whose search needs no index on the thread', async () => {
    const database = await createTestDatabase();
    const store = await openStore({ path: 'unused.db', url: database.url, pool: 2 }, { background });
    try {
      await store.sources.sync([{ id: 'tass-en', url: 'https://tass.com/rss/v2.xml' }]);
      const { items } = await workerPreparer(background).prepare(job(fixture('tass-en.xml')));
      const ids = await store.transaction(async (tx) => Promise.all(items.map((item, i) => tx.items.insert(item, `urn:uuid:${i}`, NOW))));
      await store.search.settled();
      expect(await store.search.progress()).toEqual({ current: true, building: false, backlog: 0 });
      await store.items.update(ids[0]!, { ...items[0]!, title: 'Zhetysu floods' }, NOW);
      expect((await store.items.list({ search: searchFor('zhetysu'), limit: 5 })).map((i) => i.title)).toEqual(['Zhetysu floods']);
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
