import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundThread } from '../src/background.ts';
import type { Item } from '../src/item.ts';
import { migrations } from '../src/store/sqlite/migrations.ts';
import { searchFile } from '../src/store/sqlite/search-index.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { storeOpener } from './helpers/stores.ts';

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
    contentHash: `h-${counter}`,
  };
}

describe('the search index in a file of its own', () => {
  let dir: string;
  let file: string;
  const { stores, open, closeAll } = storeOpener(() => file);
  const add = (store: Store, title: string, text = '') => store.items.insert(item(title, text), `urn:uuid:${++counter}`, NOW);
  const found = (store: Store, text: string) => store.items.list({ text, limit: 50 }).map((i) => i.title);
  const queued = (store: Store) => store.db.prepare<[], number>(`SELECT count(*) FROM search_queue`).pluck().get();

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'newsloom-search-'));
    file = path.join(dir, 'newsloom.db');
    const store = open();
    store.db.prepare(`INSERT INTO sources (id, url) VALUES ('wire', 'https://wire.example/rss')`).run();
  });
  afterEach(() => {
    closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives beside the database, and follows what is inserted, edited and deleted', () => {
    const store = stores[0]!;
    expect(searchFile(file)).toBe(path.join(dir, 'newsloom.search.db'));
    expect(existsSync(path.join(dir, 'newsloom.search.db'))).toBe(true);
    const astana = add(store, 'Talks in Astana', 'The delegations met on Monday');
    add(store, 'Ёлка в Москве');
    expect(found(store, 'delegations')).toEqual(['Talks in Astana']);
    expect(found(store, 'елка')).toEqual(['Ёлка в Москве']);
    store.items.update(astana, { ...item('Talks in Almaty'), contentHash: 'edited' }, NOW);
    expect(found(store, 'astana')).toEqual([]);
    expect(found(store, 'almaty')).toEqual(['Talks in Almaty']);
    store.db.prepare(`DELETE FROM items WHERE id = ?`).run(astana);
    expect(found(store, 'almaty')).toEqual([]);
    expect(found(store, 'елка')).toEqual(['Ёлка в Москве']);
  });

  it('forgets queue entries it has indexed at housekeeping, and only those', () => {
    const store = stores[0]!;
    add(store, 'first');
    found(store, 'first');
    add(store, 'second');
    expect(queued(store)).toBe(2);
    store.optimize();
    expect(queued(store)).toBe(1);
    expect(store.search.progress()).toEqual({ current: false, backlog: 1 });
    expect(found(store, 'second')).toEqual(['second']);
    store.optimize();
    expect(queued(store)).toBe(0);
    // Numbers are never handed out again after a trim, so the index cannot mistake a new entry for one it holds.
    add(store, 'third');
    expect(found(store, 'third')).toEqual(['third']);
  });

  it('says which file it is when it cannot be opened', () => {
    stores.pop()!.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${searchFile(file)}${suffix}`, { force: true });
    // A folder where the index file should be.
    mkdirSync(searchFile(file));
    expect(() => open()).toThrow(`cannot open the search index ${searchFile(file)}: unable to open database`);
  });

  it('is built again from the items when its file is missing', () => {
    let store = stores[0]!;
    add(store, 'Kazakhstan wheat harvest');
    add(store, 'CSTO exercise');
    expect(found(store, 'wheat')).toEqual(['Kazakhstan wheat harvest']);
    store.optimize();
    store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${searchFile(file)}${suffix}`, { force: true });
    store = open();
    expect(store.search.progress()).toEqual({ current: false, backlog: 2 });
    expect(found(store, 'wheat')).toEqual(['Kazakhstan wheat harvest']);
    expect(found(store, 'exercise')).toEqual(['CSTO exercise']);
    expect(store.search.progress()).toEqual({ current: true, backlog: 0 });
  });

  it('is built again when it belongs to another database, or is ahead of this one (a restored backup)', () => {
    const store = stores[0]!;
    add(store, 'only here');
    found(store, 'here');
    const otherFile = path.join(dir, 'other.db');
    const other = openStore(otherFile);
    stores.push(other);
    other.db.prepare(`INSERT INTO sources (id, url) VALUES ('wire', 'https://wire.example/rss')`).run();
    other.items.insert(item('only there'), 'urn:uuid:other', NOW);
    expect(found(other, 'there')).toEqual(['only there']);
    other.close();
    store.close();
    // The other database's index, copied beside this one.
    copyFileSync(searchFile(otherFile), searchFile(file));
    for (const suffix of ['-wal', '-shm']) rmSync(`${searchFile(file)}${suffix}`, { force: true });
    const reopened = open();
    expect(found(reopened, 'there')).toEqual([]);
    expect(found(reopened, 'here')).toEqual(['only here']);
    // An index that holds more of the queue than this database ever numbered.
    reopened.db.prepare(`UPDATE search.state SET seq = seq + 100`).run();
    expect(reopened.search.progress().current).toBe(false);
    expect(found(reopened, 'here')).toEqual(['only here']);
  });

  it('indexes the items of a database from before it had its own file', () => {
    stores.pop()!.close();
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
    const store = open();
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    expect(store.db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'items_fts%'`).pluck().get()).toBe(0);
    expect(found(store, 'провел')).toEqual(['Токаев провёл встречу']);
  });

  describe('kept by the background thread', () => {
    let background: BackgroundThread | undefined;
    const openKept = () => open({ background: (background = new BackgroundThread()) });
    afterEach(async () => {
      await background?.close();
      background = undefined;
    });
    const until = async (check: () => boolean) => {
      for (let waited = 0; !check(); waited += 20) {
        if (waited > 10_000) throw new Error('the worker did not catch up within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    it('indexes what the store commits; a search sees it once the worker has', async () => {
      stores.pop()!.close();
      const store = openKept();
      const ids = store.transaction(() => [add(store, 'Astana summit'), add(store, 'Almaty floods'), add(store, 'Bishkek election')]);
      await store.search.settled();
      expect(store.search.progress()).toEqual({ current: true, backlog: 0 });
      // The worker wrote the index: this thread had nothing to do before the query.
      expect(found(store, 'summit')).toEqual(['Astana summit']);
      store.transaction(() => {
        store.items.update(ids[0]!, { ...item('Astana forum'), contentHash: 'edited' }, NOW);
        store.db.prepare(`DELETE FROM items WHERE id = ?`).run(ids[1]!);
      });
      await store.search.settled();
      expect(found(store, 'summit')).toEqual([]);
      expect(found(store, 'forum')).toEqual(['Astana forum']);
      expect(found(store, 'floods')).toEqual([]);
      expect(found(store, 'election')).toEqual(['Bishkek election']);
    });

    it('never indexes on the thread that asks: a search before the worker caught up misses the new item', async () => {
      stores.pop()!.close();
      const store = openKept();
      await store.search.settled();
      add(store, 'Dushanbe bridge');
      // Same turn of the event loop: the worker cannot have run, and the query does not index for it.
      expect(found(store, 'bridge')).toEqual([]);
      await store.search.settled();
      expect(found(store, 'bridge')).toEqual(['Dushanbe bridge']);
    });

    it('picks up what another process writes to the database', async () => {
      stores.pop()!.close();
      const store = openKept();
      await store.search.settled();
      const other = openStore(file);
      stores.push(other);
      add(other, 'Tashkent metro');
      // No poke from this store: the worker notices the database changed.
      await until(() => store.search.progress().current);
      expect(store.db.prepare(`SELECT count(*) FROM search.items_fts WHERE items_fts MATCH 'metro'`).pluck().get()).toBe(1);
    });

    it('stops when its background thread closes, and a store on the database goes on indexing inline', async () => {
      stores.pop()!.close();
      const store = openKept();
      await store.search.settled();
      await background!.close();
      store.close();
      stores.pop();
      const reopened = open();
      add(reopened, 'Ashgabat airport');
      expect(found(reopened, 'airport')).toEqual(['Ashgabat airport']);
    });
  });
});
