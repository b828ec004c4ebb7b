import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { pipelineOn } from '../src/daemon.ts';
import type { Item } from '../src/item.ts';
import { silentLogger } from '../src/log.ts';
import { identityKeys } from '../src/pipeline/fingerprint.ts';
import { itemUid } from '../src/text/uid.ts';
import { prepareItems, storeItems } from '../src/pipeline/ingest.ts';
import { normalize } from '../src/pipeline/normalize.ts';
import { storyPrint } from '../src/text/stories.ts';
import { migrations } from '../src/store/sqlite/migrations.ts';
import type { Store } from '../src/store/store.ts';
import { storeOpener } from './helpers/stores.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { searchFor } from './helpers/search.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const config = parseConfig(
  `sources: [{ id: wire, url: "https://wire.example/rss" }]
topics: [{ id: kazakhstan, any: [Kazakhstan] }]
retention: { items: 90d, fingerprints: 365d }`,
  'test.yaml',
  {},
);

const item = (raw: { guid?: string; url?: string; title: string; summary: string; published: number }): Item =>
  normalize(
    { guid: raw.guid, url: raw.url, title: raw.title, summary: raw.summary, published: new Date(raw.published).toISOString() },
    { sourceId: 'wire', language: 'en', baseUrl: 'https://wire.example/', now: NOW },
  );

// Three items as schema 7 stored them: one with a guid and its keys, and two from before keys were recorded (schema 5)
// that had neither guid nor URL, so that no key stands for them: they were found by their uid. The third is old enough
// for retention to prune.
const withGuid = item({ guid: 'g-1', url: 'https://wire.example/1', title: 'Kazakhstan signs a transit deal', summary: 'Astana and Beijing agreed on rail transit.', published: NOW - DAY });
const keyless = item({ title: 'Storm warning for the coast', summary: 'Winds of up to 30 metres a second are expected.', published: NOW - 2 * DAY });
const oldKeyless = item({ title: 'Bridge reopens after repairs', summary: 'The bridge was closed for a year.', published: NOW - 200 * DAY });
const uidOf = (it: Item) => itemUid('wire', identityKeys([it])[0]![0]!);

function version7Database(file: string): void {
  const db = new Database(file);
  for (const migration of migrations.filter((m) => m.version <= 7)) db.exec(migration.sql);
  db.pragma('user_version = 7');
  db.prepare(`INSERT INTO sources (id, url) VALUES ('wire', 'https://wire.example/rss')`).run();
  const insert = db.prepare(
    `INSERT INTO items (id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text, categories,
       published_at, updated_at, first_seen_at, content_hash)
     VALUES (@id, @uid, 'wire', @guid, @url, @url, @title, @summaryHtml, '', @summaryText, '', '[]', @publishedAt, @publishedAt, @publishedAt, @contentHash)`,
  );
  [withGuid, keyless, oldKeyless].forEach((it, i) => {
    const id = i + 1;
    insert.run({ id, uid: uidOf(it), guid: it.guid, url: it.canonicalUrl, title: it.title, summaryHtml: it.summaryHtml, summaryText: it.summaryText, publishedAt: it.publishedAt, contentHash: it.contentHash });
    db.prepare(`INSERT INTO stories (id, uid) VALUES (?, ?)`).run(id, uidOf(it));
    db.prepare(`INSERT INTO story_items (item_id, story_id, source_id, published_at) VALUES (?, ?, 'wire', ?)`).run(id, id, it.publishedAt);
    const { words } = storyPrint(it);
    db.prepare(`INSERT INTO story_prints (published_at, item_id, words) VALUES (?, ?, ?)`).run(it.publishedAt, id, Buffer.from(words.buffer, words.byteOffset, words.byteLength));
  });
  db.prepare(`INSERT INTO item_keys (source_id, key, item_id, seen_at) VALUES ('wire', 'guid:g-1', 1, ?), ('wire', 'url:wire.example/1', 1, ?)`).run(NOW, NOW);
  db.prepare(`INSERT INTO item_topics (item_id, topic_id, published_at, matches) VALUES (1, 'kazakhstan', ?, '[]')`).run(withGuid.publishedAt);
  db.close();
}

describe('migration 8: the items table without a unique uid index, story prints in item order', () => {
  let dir: string;
  let file: string;
  const { open, closeAll } = storeOpener(() => file);
  const ingest = async (store: Store, items: Item[], now = NOW) => {
    const counts = { new: 0, updated: 0, unchanged: 0, merged: 0 };
    const ctx = await pipelineOn(store, config, silentLogger, () => now);
    const prepared = await prepareItems(ctx, items);
    await store.transaction((tx) => storeItems(tx, ctx, prepared, now, counts));
    return counts;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'newsloom-migrate-'));
    file = path.join(dir, 'newsloom.db');
  });
  afterEach(async () => {
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every row and reference, and finds items by uid through the block index', async () => {
    version7Database(file);
    const applied: number[] = [];
    const store = await open({ onMigration: ({ version }) => applied.push(version) });
    expect(applied).toEqual([8, 9, 10]);
    const db = connectionOf(store);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    expect(db.prepare(`SELECT id, uid, title, published_at FROM items ORDER BY id`).all()).toEqual(
      [withGuid, keyless, oldKeyless].map((it, i) => ({ id: i + 1, uid: uidOf(it), title: it.title, published_at: it.publishedAt })),
    );
    expect(db.prepare(`SELECT item_id, topic_id FROM item_topics`).all()).toEqual([{ item_id: 1, topic_id: 'kazakhstan' }]);
    expect(db.prepare(`SELECT item_id, story_id FROM story_items ORDER BY item_id`).all()).toHaveLength(3);
    expect(db.prepare(`SELECT item_id, published_at FROM story_prints ORDER BY item_id`).all()).toEqual(
      [withGuid, keyless, oldKeyless].map((it, i) => ({ item_id: i + 1, published_at: it.publishedAt })),
    );
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    // No unique index on the uid is left to take a random write per item.
    expect(db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'items' ORDER BY name`).pluck().all()).toEqual([
      'items_published',
      'items_source_published',
      'items_uid',
    ]);
    for (const [i, it] of [withGuid, keyless, oldKeyless].entries()) expect(await store.items.find(uidOf(it))).toBe(i + 1);
    expect(await store.items.find('urn:uuid:00000000-0000-5000-8000-000000000000')).toBeUndefined();
    // The triggers came back with the table: a new item moves the feeds' generation and is queued for the index.
    const before = (await store.generation()).feeds;
    expect((await ingest(store, [item({ guid: 'g-2', url: 'https://wire.example/2', title: 'A new item', summary: 'After the upgrade.', published: NOW })])).new).toBe(1);
    expect((await store.generation()).feeds).toBeGreaterThan(before);
    expect((await store.items.list({ search: searchFor('upgrade'), limit: 10 })).map((i) => i.title)).toEqual(['A new item']);
  });

  it('recognises the items only their uid stood for, before and after retention prunes them', async () => {
    version7Database(file);
    const store = await open();
    expect(await store.meta.get('legacy_uid_keys')).toBe('1');
    expect(await ingest(store, [withGuid, keyless])).toEqual({ new: 0, updated: 0, unchanged: 2, merged: 0 });
    // Found by its uid once, it has learnt the key it is listed with.
    expect(connectionOf(store).prepare(`SELECT key FROM item_keys WHERE item_id = 2 ORDER BY key`).pluck().all()).toEqual([
      identityKeys([keyless])[0]![0],
      `uid:${uidOf(keyless)}`,
    ]);
    expect((await store.prune({ now: NOW, items: 90 * DAY, fingerprints: 365 * DAY, window: 3 * DAY })).items).toBe(1);
    expect(await store.items.count()).toBe(2);
    expect(await ingest(store, [oldKeyless, keyless])).toEqual({ new: 0, updated: 0, unchanged: 2, merged: 0 });
    expect(await store.items.count()).toBe(2);
  });

  it('applies each migration once when another connection applies it meanwhile', async () => {
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    for (const migration of migrations.filter((m) => m.version <= 6)) old.exec(migration.sql);
    old.pragma('user_version = 6');
    // This connection holds the write lock while the other one opens the database, then migrates it and lets go.
    old.pragma('busy_timeout = 5000');
    old.exec('BEGIN IMMEDIATE');
    const other = new Worker(new URL('helpers/open-database-worker.ts', import.meta.url), { workerData: file });
    const replies: unknown[] = [];
    other.on('message', (reply) => replies.push(reply));
    try {
      while (replies.length === 0) await once(other, 'message');
      // The other connection has read version 6 and waits for the lock.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const migration of migrations.filter((m) => m.version > 6)) old.exec(migration.sql);
      old.pragma(`user_version = ${migrations.at(-1)!.version}`);
      old.exec('COMMIT');
      while (replies.length < 2) await once(other, 'message');
    } finally {
      old.close();
      await other.terminate();
    }
    // It found the work done instead of applying migration 7 again (whose triggers were gone by then).
    expect(replies[1]).toEqual({ ok: true, version: migrations.at(-1)!.version });
  });

  it('says why a database cannot be opened: a newer schema, a file that is no database', async () => {
    const newer = new Database(file);
    newer.pragma('user_version = 99');
    newer.close();
    await expect(open()).rejects.toThrow(`the database schema is version 99, newer than this newsloom knows (${migrations.at(-1)!.version}): upgrade newsloom or restore a backup`);
    rmSync(file);
    writeFileSync(file, 'these are not the pages of a database '.repeat(200));
    await expect(open()).rejects.toThrow(`cannot open the database ${file}: the database file is damaged (restore a backup) (SQLITE_NOTADB)`);
  });

  it('gives a new database no legacy keys to look for', async () => {
    const applied: number[] = [];
    const store = await open({ onMigration: ({ version }) => applied.push(version) });
    // A new database is created at the latest schema without a word per migration.
    expect(applied).toEqual([]);
    expect(await store.meta.get('legacy_uid_keys')).toBeUndefined();
    expect((await ingest(store, [keyless])).new).toBe(1);
    expect(connectionOf(store).prepare(`SELECT key FROM item_keys`).pluck().all()).toEqual(identityKeys([keyless])[0]);
    expect(await store.items.find(uidOf(keyless))).toBe(1);
    expect((await ingest(store, [keyless])).unchanged).toBe(1);
  });
});
