import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundThread } from '../src/background.ts';
import type { Item } from '../src/item.ts';
import { parseConfig } from '../src/config/load.ts';
import { SEARCH } from '../src/publish/feeds.ts';
import { parseFeedParams } from '../src/publish/params.ts';
import { feedBody, indexBody } from '../src/publish/site.ts';
import { migrations } from '../src/store/sqlite/migrations.ts';
import { INDEX_FORMAT, SearchIndexWriter, searchFile } from '../src/store/sqlite/search-index.ts';
import { ftsExpression } from '../src/store/sqlite/search.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { storeOpener } from './helpers/stores.ts';
import { searchFor } from './helpers/search.ts';

const NOW = Date.UTC(2026, 5, 1);
let counter = 0;

function item(title: string, text = ''): Item {
  counter++;
  return {
    sourceId: 'wire',
    guid: `g-${counter}`,
    url: null,
    canonicalUrl: null,
    title,
    summaryHtml: '',
    contentHtml: '',
    summaryText: text,
    contentText: '',
    author: null,
    categories: [],
    publishedAt: NOW + counter,
    updatedAt: null,
    language: null,
    image: null,
    enclosures: [],
    contentHash: `h-${counter}`,
  };
}

describe('the search index in a file of its own', () => {
  let dir: string;
  let file: string;
  const { stores, open, closeAll } = storeOpener(() => file);
  const add = async (store: Store, title: string, text = '') => await store.items.insert(item(title, text), `urn:uuid:${++counter}`, NOW);
  const found = async (store: Store, text: string) => (await store.items.list({ search: searchFor(text), limit: 50 })).map((i) => i.title);
  /** What a search finds in the index as it is, without bringing it up to date first (sort=date). */
  const indexed = (store: Store, text: string) =>
    connectionOf(store)
      .prepare<[string], string>(`SELECT i.title FROM search.items_fts f JOIN items i ON i.id = f.rowid WHERE items_fts MATCH ? ORDER BY i.id DESC`)
      .pluck()
      .all(ftsExpression(searchFor(text), { forms: true }));
  const queued = (store: Store) => connectionOf(store).prepare<[], number>(`SELECT count(*) FROM search_queue`).pluck().get();

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'newsloom-search-'));
    file = path.join(dir, 'newsloom.db');
    const store = await open();
    connectionOf(store).prepare(`INSERT INTO sources (id, url) VALUES ('wire', 'https://wire.example/rss')`).run();
  });
  afterEach(async () => {
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives beside the database, and follows what is inserted, edited and deleted', async () => {
    const store = stores[0]!;
    expect(searchFile(file)).toBe(path.join(dir, 'newsloom.search.db'));
    expect(existsSync(path.join(dir, 'newsloom.search.db'))).toBe(true);
    const astana = await add(store, 'Talks in Astana', 'The delegations met on Monday');
    await add(store, 'Ёлка в Москве');
    expect(await found(store, 'delegations')).toEqual(['Talks in Astana']);
    expect(await found(store, 'елка')).toEqual(['Ёлка в Москве']);
    await store.items.update(astana, { ...item('Talks in Almaty'), contentHash: 'edited' }, NOW);
    expect(await found(store, 'astana')).toEqual([]);
    expect(await found(store, 'almaty')).toEqual(['Talks in Almaty']);
    connectionOf(store).prepare(`DELETE FROM items WHERE id = ?`).run(astana);
    expect(await found(store, 'almaty')).toEqual([]);
    expect(await found(store, 'елка')).toEqual(['Ёлка в Москве']);
  });

  it('forgets queue entries it has indexed at housekeeping, and only those', async () => {
    const store = stores[0]!;
    await add(store, 'first');
    await found(store, 'first');
    await add(store, 'second');
    expect(queued(store)).toBe(2);
    await store.optimize();
    expect(queued(store)).toBe(1);
    expect(await store.search.progress()).toEqual({ current: false, building: false, backlog: 1 });
    expect(await found(store, 'second')).toEqual(['second']);
    await store.optimize();
    expect(queued(store)).toBe(0);
    // Numbers are never handed out again after a trim, so the index cannot mistake a new entry for one it holds.
    await add(store, 'third');
    expect(await found(store, 'third')).toEqual(['third']);
  });

  it('says which file it is when it cannot be opened', async () => {
    await stores.pop()!.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${searchFile(file)}${suffix}`, { force: true });
    // A folder where the index file should be.
    mkdirSync(searchFile(file));
    await expect(open()).rejects.toThrow(`cannot open the search index ${searchFile(file)}: unable to open database`);
  });

  it('is built again from the items when its file is missing', async () => {
    let store = stores[0]!;
    await add(store, 'Kazakhstan wheat harvest');
    await add(store, 'CSTO exercise');
    expect(await found(store, 'wheat')).toEqual(['Kazakhstan wheat harvest']);
    await store.optimize();
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${searchFile(file)}${suffix}`, { force: true });
    store = await open();
    expect(await store.search.progress()).toEqual({ current: false, building: true, backlog: 2 });
    expect(await found(store, 'wheat')).toEqual(['Kazakhstan wheat harvest']);
    expect(await found(store, 'exercise')).toEqual(['CSTO exercise']);
    expect(await store.search.progress()).toEqual({ current: true, building: false, backlog: 0 });
  });

  it('is built again when it belongs to another database, or is ahead of this one (a restored backup)', async () => {
    const store = stores[0]!;
    await add(store, 'only here');
    await found(store, 'here');
    const otherFile = path.join(dir, 'connectionOf(other)');
    const other = await openStore({ path: otherFile });
    stores.push(other);
    connectionOf(other).prepare(`INSERT INTO sources (id, url) VALUES ('wire', 'https://wire.example/rss')`).run();
    await other.items.insert(item('only there'), 'urn:uuid:other', NOW);
    expect(await found(other, 'there')).toEqual(['only there']);
    await other.close();
    await store.close();
    // The other database's index, copied beside this one.
    copyFileSync(searchFile(otherFile), searchFile(file));
    for (const suffix of ['-wal', '-shm']) rmSync(`${searchFile(file)}${suffix}`, { force: true });
    const reopened = await open();
    expect(await found(reopened, 'there')).toEqual([]);
    expect(await found(reopened, 'here')).toEqual(['only here']);
    // An index that holds more of the queue than this database ever numbered.
    connectionOf(reopened).prepare(`UPDATE search.state SET seq = seq + 100`).run();
    expect((await reopened.search.progress()).current).toBe(false);
    expect(await found(reopened, 'here')).toEqual(['only here']);
  });

  it('indexes the items of a database from before it had its own file', async () => {
    await stores.pop()!.close();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const legacy = new Database(file);
    for (const migration of migrations.filter((m) => m.version <= 6)) legacy.exec(migration.sql);
    legacy.pragma('user_version = 6');
    legacy.prepare(`INSERT INTO sources (id, url) VALUES ('wire', 'https://wire.example/rss')`).run();
    legacy
      .prepare(
        `INSERT INTO items (uid, source_id, title, summary_html, content_html, summary_text, content_text, categories, published_at, updated_at, first_seen_at, content_hash)
         VALUES ('urn:uuid:old', 'wire', 'Токаев провёл встречу', '', '', 'в Астане', '', '[]', ?, ?, ?, 'h')`,
      )
      .run(NOW, NOW, NOW);
    legacy.close();
    const store = await open();
    expect(connectionOf(store).pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    expect(connectionOf(store).prepare(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'items_fts%'`).pluck().get()).toBe(0);
    expect(await found(store, 'провел')).toEqual(['Токаев провёл встречу']);
  });

  it('is built newest first, and a search while it builds finds the newest items', async () => {
    const store = stores[0]!;
    for (const word of ['first', 'second', 'third', 'fourth', 'fifth']) await add(store, `news ${word}`);
    connectionOf(store).exec(`DELETE FROM search.state`);
    const messages: string[] = [];
    const writer = new SearchIndexWriter(connectionOf(store), (message) => messages.push(message));
    expect(writer.step(2)).toBe(true);
    expect(await store.search.progress()).toEqual({ current: false, building: true, backlog: 3 });
    expect(indexed(store, 'news')).toEqual(['news fifth', 'news fourth']);
    expect(messages).toEqual(['the search index is being built from 5 items (there was none); until it is done, a search finds the newest items first']);
    // An item stored and one edited meanwhile, among those already in and those still to come.
    await add(store, 'news sixth');
    connectionOf(store).prepare(`UPDATE items SET title = 'news 2nd' WHERE title = 'news second'`).run();
    writer.catchUp();
    expect(indexed(store, 'news')).toEqual(['news sixth', 'news fifth', 'news fourth', 'news third', 'news 2nd', 'news first']);
    expect(await store.search.progress()).toEqual({ current: true, building: false, backlog: 0 });
    expect(messages[1]).toMatch(/^the search index is built: 6 items in \d+\.\d s$/);
  });

  describe('kept by the background thread', () => {
    let background: BackgroundThread | undefined;
    const openKept = async () => await open({ background: (background = new BackgroundThread()) });
    afterEach(async () => {
      await background?.close();
      background = undefined;
    });
    const until = async (check: () => Promise<boolean>) => {
      for (let waited = 0; !(await check()); waited += 20) {
        if (waited > 10_000) throw new Error('the worker did not catch up within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    it('indexes what the store commits; a search sees it once the worker has', async () => {
      await stores.pop()!.close();
      const store = await openKept();
      const ids = await store.transaction(async () => [await add(store, 'Astana summit'), await add(store, 'Almaty floods'), await add(store, 'Bishkek election')]);
      await store.search.settled();
      expect(await store.search.progress()).toEqual({ current: true, building: false, backlog: 0 });
      // The worker wrote the index: this thread had nothing to do before the query.
      expect(await found(store, 'summit')).toEqual(['Astana summit']);
      await store.transaction(async () => {
        await store.items.update(ids[0]!, { ...item('Astana forum'), contentHash: 'edited' }, NOW);
        connectionOf(store).prepare(`DELETE FROM items WHERE id = ?`).run(ids[1]!);
      });
      await store.search.settled();
      expect(await found(store, 'summit')).toEqual([]);
      expect(await found(store, 'forum')).toEqual(['Astana forum']);
      expect(await found(store, 'floods')).toEqual([]);
      expect(await found(store, 'election')).toEqual(['Bishkek election']);
    });

    it('answers from an index of the first layout while it builds the new one, and says so', async () => {
      await stores.pop()!.close();
      // The index file as the first layout made it: exact words only, in two columns.
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${searchFile(file)}${suffix}`, { force: true });
      const main = new Database(file);
      main.prepare(`INSERT INTO items (uid, source_id, title, summary_html, content_html, summary_text, content_text, categories, published_at, updated_at, first_seen_at, content_hash)
        VALUES ('urn:uuid:kz', 'wire', 'Wheat harvest', '', '', 'Урожай в Казахстане', '', '[]', ?, ?, ?, 'h')`).run(NOW, NOW, NOW);
      main.prepare(`ATTACH DATABASE ? AS search`).run(searchFile(file));
      main.exec(`
        CREATE TABLE search.state (id INTEGER PRIMARY KEY CHECK (id = 1), instance TEXT NOT NULL, seq INTEGER NOT NULL, cursor INTEGER) STRICT;
        CREATE VIRTUAL TABLE search.items_fts USING fts5(title, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
        INSERT INTO search.items_fts (rowid, title, body) SELECT id, title, summary_text FROM items;
        INSERT INTO search.state (id, instance, seq, cursor)
          SELECT 1, (SELECT value FROM meta WHERE key = 'search_instance'), (SELECT seq FROM sqlite_sequence WHERE name = 'search_queue'), NULL;
      `);
      main.close();
      const messages: string[] = [];
      const store = await open({ background: (background = new BackgroundThread()), onSearchBuild: (message) => messages.push(message) });
      // Before the background thread has begun: the old index answers, exact words only.
      expect(await store.search.progress()).toMatchObject({ current: false, building: true });
      expect(await found(store, 'harvest')).toEqual(['Wheat harvest']);
      expect(await found(store, 'Казахстане')).toEqual(['Wheat harvest']);
      expect(await found(store, 'Казахстан')).toEqual([]);
      // The index page and a search's feed say so.
      const config = parseConfig(`sources: [{ id: wire, url: "https://wire.example/rss" }]`, 'test.yaml', {});
      const site = { config, store, baseUrl: 'http://newsloom.example', maxAgeSeconds: 60 };
      const note = 'The search index is being built: 1 item is not searchable yet. Until it is done, a search finds the newest items first.';
      const request = (q: string) => {
        const parsed = parseFeedParams(config, SEARCH, new URLSearchParams({ q }));
        if (!parsed.ok) throw new Error(parsed.message);
        return parsed.request;
      };
      expect((await indexBody(site, 'en')).body).toContain(note);
      expect((await feedBody(site, request('harvest'), 'atom')).body).toContain(`<subtitle type="text">${note}</subtitle>`);
      await store.search.settled();
      expect((await indexBody(site, 'en')).body).not.toContain('The search index is being built');
      expect((await feedBody(site, request('harvest'), 'atom')).body).not.toContain('<subtitle');
      expect(connectionOf(store).pragma('search.user_version', { simple: true })).toBe(INDEX_FORMAT);
      expect(await found(store, 'Казахстан')).toEqual(['Wheat harvest']);
      expect(await found(store, 'harvests')).toEqual(['Wheat harvest']);
      expect(await store.search.progress()).toEqual({ current: true, building: false, backlog: 0 });
      expect(messages[0]).toBe('the search index is being built from 1 item (its file had an older layout); until it is done, a search finds the newest items first');
      expect(messages[1]).toMatch(/^the search index is built: 1 item in /);
    });

    it('never indexes on the thread that asks: a search before the worker caught up misses the new item', async () => {
      await stores.pop()!.close();
      const store = await openKept();
      await store.search.settled();
      await add(store, 'Dushanbe bridge');
      // Same turn of the event loop: the worker cannot have run, and the query does not index for it.
      expect(await found(store, 'bridge')).toEqual([]);
      await store.search.settled();
      expect(await found(store, 'bridge')).toEqual(['Dushanbe bridge']);
    });

    it('picks up what another process writes to the database', async () => {
      await stores.pop()!.close();
      const store = await openKept();
      await store.search.settled();
      const other = await openStore({ path: file });
      stores.push(other);
      await add(other, 'Tashkent metro');
      // No poke from this store: the worker notices the database changed.
      await until(async () => (await store.search.progress()).current);
      expect(connectionOf(store).prepare(`SELECT count(*) FROM search.items_fts WHERE items_fts MATCH 'metro'`).pluck().get()).toBe(1);
    });

    it('stops when its background thread closes, and a store on the database goes on indexing inline', async () => {
      await stores.pop()!.close();
      const store = await openKept();
      await store.search.settled();
      await background!.close();
      await store.close();
      stores.pop();
      const reopened = await open();
      await add(reopened, 'Ashgabat airport');
      expect(await found(reopened, 'airport')).toEqual(['Ashgabat airport']);
    });
  });
});
