// What only the PostgreSQL engine does: many processes on one database (migrations once under a lock, stories filed
// by two writers at once, change notifications reaching another store), read-only stores, word forms by the item's
// language, and keeping the password out of every message. Runs when NEWSLOOM_TEST_DATABASE_URL is set.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Item } from '../src/item.ts';
import { ChangeWatcher } from '../src/store/postgres/changes.ts';
import { connectionUrl, createPool, poolSql } from '../src/store/postgres/db.ts';
import { migrations } from '../src/store/postgres/migrations.ts';
import { statementsRun } from '../src/store/postgres/store.ts';
import { backupStore, describeStorage, openStore, storageProblem, type StorageConfig, type Store, type StoreOptions } from '../src/store/store.ts';
import { sameStoryCandidates, storyPrint } from '../src/text/stories.ts';
import { fetchAtom } from './helpers/atom.ts';
import { testConfig } from './helpers/config.ts';
import { createTestDatabase, TEST_DATABASE_URL } from './helpers/engines.ts';
import { startFixtureServer } from './helpers/fixture-server.ts';
import { freePort, runDaemon } from './helpers/process.ts';
import { searchFor } from './helpers/search.ts';

const NOW = Date.UTC(2026, 5, 1);
const WINDOW = 3 * 86_400_000;

function item(sourceId: string, n: number, title: string, text: string, language: string | null = null): Item {
  return {
    sourceId,
    guid: `${sourceId}-${n}`,
    url: null,
    canonicalUrl: null,
    title,
    summaryHtml: '',
    contentHtml: '',
    summaryText: text,
    contentText: '',
    author: null,
    categories: [],
    publishedAt: NOW + n * 60_000,
    updatedAt: null,
    language,
    image: null,
    enclosures: [],
    contentHash: `${sourceId}-h-${n}`,
  };
}

/** Stores a report and files it under its story, as ingest's storeItems does: the story's id. `hold` keeps the write open. */
function file(store: Store, report: Item, hold?: Promise<void>): Promise<number> {
  return store.write(async (tx) => {
    const id = await tx.items.insert(report, `urn:uuid:${report.guid}`, NOW);
    const print = storyPrint(report);
    const publishedAt = report.publishedAt!;
    const candidates = await tx.stories.candidates(print, report.sourceId, publishedAt, WINDOW, NOW);
    let storyId: number | undefined;
    for (const candidate of sameStoryCandidates(print, candidates, 0.48)) {
      if (await tx.stories.openTo(candidate.storyId, report.sourceId)) {
        storyId = candidate.storyId;
        break;
      }
    }
    await tx.stories.add({ itemId: id, uid: `urn:uuid:${report.guid}`, sourceId: report.sourceId, publishedAt, print, storyId }, NOW, WINDOW);
    await hold;
    const [facts] = (await tx.stories.facts([id])).values();
    return facts ? id : -1;
  });
}

describe('PostgreSQL failures in words an operator can act on', () => {
  it('says when the server has no disk left or takes no writes, and leaves other errors to the caller', () => {
    expect(storageProblem(Object.assign(new Error('could not extend file'), { code: '53100' }))).toBe('the disk holding the PostgreSQL database is full (SQLSTATE 53100)');
    expect(storageProblem(Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }))).toMatch(
      /^the PostgreSQL database is read-only \(a standby, or default_transaction_read_only\): point storage.url at the primary/,
    );
    expect(storageProblem(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeUndefined();
    // A refused connection is the storage's only when it came from the engine (a feed's server refuses too).
    expect(storageProblem(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });
});

describe.skipIf(!TEST_DATABASE_URL)('the PostgreSQL engine', () => {
  let database: { url: string; drop: () => Promise<void> };
  let storage: StorageConfig;
  const stores: Store[] = [];
  const open = async (options: StoreOptions = {}, config: StorageConfig = storage) => {
    const store = await openStore(config, options);
    stores.push(store);
    return store;
  };
  const query = async <Row extends pg.QueryResultRow>(text: string, url = database.url): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<Row>(text)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    storage = { path: 'unused.db', url: database.url, pool: 4 };
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('migrates once when ten processes open a new database at the same moment; the others wait and find it current', async () => {
    const fresh = await createTestDatabase();
    try {
      const applied: number[] = [];
      const opened = await Promise.all(
        Array.from({ length: 10 }, () => open({ onMigration: ({ version }) => applied.push(version) }, { path: 'unused.db', url: fresh.url, pool: 1 })),
      );
      const rows = await query<{ version: number }>(`SELECT version FROM schema_migrations ORDER BY version`, fresh.url);
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      for (const store of opened) expect(await store.health()).toEqual({ open: true, schemaCurrent: true, schemaVersion: migrations.at(-1)!.version });
      // An empty database is not announced migration by migration.
      expect(applied).toEqual([]);
    } finally {
      for (const store of stores.splice(0)) await store.close();
      await fresh.drop();
    }
  });

  it('makes one story of two reports that two pollers file at the same moment', async () => {
    const first = await open();
    const second = await open();
    await first.sources.sync([
      { id: 'wire', url: 'https://wire.example/rss' },
      { id: 'daily', url: 'https://daily.example/rss' },
    ]);
    const text = 'The Collective Security Treaty Organization will hold joint exercises in Kazakhstan near Almaty next month with troops from six countries';
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    // The first poller has filed its report and not committed yet when the second files its own.
    const filing = file(first, item('wire', 1, 'CSTO exercises in Kazakhstan', text), hold);
    await vi.waitFor(async () => expect((await query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted`)).length).toBeGreaterThan(0), { timeout: 5_000 });
    const second_filing = file(second, item('daily', 2, 'Kazakhstan to host CSTO exercises', text));
    // The second waits on a band key's lock the first holds, instead of reading candidates without the first's report.
    await vi.waitFor(async () => expect((await query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).length).toBeGreaterThan(0), {
      timeout: 5_000,
    });
    release();
    await Promise.all([filing, second_filing]);
    const stories = await query<{ story_id: number; n: number }>(`SELECT story_id, count(*)::int AS n FROM story_items GROUP BY story_id`);
    expect(stories).toEqual([{ story_id: stories[0]!.story_id, n: 2 }]);
  });

  it('finds word forms by the item language: english and russian stemming, exact words for the rest', async () => {
    const store = await open();
    await store.sources.sync([{ id: 'wire', url: 'https://wire.example/rss' }]);
    await store.items.insert(item('wire', 1, 'Talks running late in Astana', 'Delegations kept negotiating', 'en-GB'), 'urn:uuid:1', NOW);
    await store.items.insert(item('wire', 2, 'Переговорах в Астане не видно конца', 'Делегации продолжают работу', 'ru'), 'urn:uuid:2', NOW);
    await store.items.insert(item('wire', 3, 'Running notes', 'A list kept by hand', null), 'urn:uuid:3', NOW);
    const found = async (text: string) => (await store.items.list({ search: searchFor(text), sort: 'date', limit: 10 })).map((i) => i.guid);
    // "run" is a stem of "running" only in English; the item without a language holds its words as they are.
    expect(await found('run')).toEqual(['wire-1']);
    expect(await found('negotiate')).toEqual(['wire-1']);
    expect(await found('переговоры')).toEqual(['wire-2']);
    expect(await found('"running notes"')).toEqual(['wire-3']);
    expect(await found('runn*')).toEqual(['wire-3', 'wire-1']);
  });

  it('finds items whose search words are still queued, and an edited item by its new words only, before and after indexing', async () => {
    const fresh = await createTestDatabase();
    try {
      const store = await open({}, { path: 'unused.db', url: fresh.url, pool: 2 });
      await store.sources.sync([{ id: 'wire', url: 'https://wire.example/rss' }]);
      await store.write(async (tx) => {
        await tx.items.insert(item('wire', 1, 'Grain exports are rising', 'Harvest beat forecasts', 'en'), 'urn:uuid:1', NOW);
        await tx.items.insert(item('wire', 2, 'Экспорт зерна растёт', 'Урожай превысил прогнозы', 'ru'), 'urn:uuid:2', NOW);
      });
      const found = async (text: string, sort?: 'date') =>
        (await store.items.list({ search: searchFor(text), limit: 10, everyItem: true, ...(sort ? { sort } : {}) })).map((i) => i.guid);
      const pending = async () => (await query<{ n: string }>(`SELECT count(*) AS n FROM search_pending`, fresh.url))[0]!.n;
      const indexed = async () => (await query<{ n: string }>(`SELECT count(*) AS n FROM item_search`, fresh.url))[0]!.n;

      // The commit queued both items; the writer's indexer takes the queue after it.
      await store.search.settled();
      expect([await pending(), await indexed()]).toEqual(['0', '2']);
      expect(await found('export')).toEqual(['wire-1']);
      expect(await found('экспорт')).toEqual(['wire-2']);
      expect((await store.search.progress()).backlog).toBe(0);

      // Queued again (as a migration or an indexer that fell behind leaves them): found, and ranked, all the same.
      await query(`DELETE FROM item_search; INSERT INTO search_pending SELECT id FROM items`, fresh.url);
      expect((await store.search.progress()).backlog).toBe(2);
      expect(await found('export')).toEqual(['wire-1']);
      expect(await found('harvest', 'date')).toEqual(['wire-1']);
      expect(await found('зерно')).toEqual(['wire-2']);
      await store.search.settled();
      expect([await pending(), await indexed()]).toEqual(['0', '2']);

      // An edit past the store (no indexer told): the item is queued again, its words in item_search the old ones.
      await query(`UPDATE items SET title = 'Wheat harvest record', summary_text = 'Farmers count the yield' WHERE guid = 'wire-1'`, fresh.url);
      expect(await pending()).toBe('1');
      expect(await found('wheat')).toEqual(['wire-1']);
      expect(await found('export')).toEqual([]);
      // An edit that leaves the words alone queues nothing.
      await query(`UPDATE items SET author = 'desk' WHERE guid = 'wire-2'`, fresh.url);
      expect(await pending()).toBe('1');
      await store.search.settled();
      expect(await pending()).toBe('0');
      expect(await found('wheat')).toEqual(['wire-1']);
      expect(await found('export')).toEqual([]);

      // A queued item deleted before it is indexed: its row is dropped, nothing fails.
      await query(`INSERT INTO search_pending VALUES (424242)`, fresh.url);
      await store.search.settled();
      expect([await pending(), await indexed()]).toEqual(['0', '2']);
    } finally {
      for (const store of stores.splice(0)) await store.close();
      await fresh.drop();
    }
  });

  it('keeps the search words of items stored before migration 4, moved out of the items table', async () => {
    const fresh = await createTestDatabase();
    try {
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        await client.query(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        for (const migration of migrations.filter((m) => m.version <= 3)) {
          for (const statement of migration.statements) await client.query(statement);
          await client.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        }
        await client.query(`INSERT INTO sources (id, url) VALUES ('wire', 'https://wire.example/rss')`);
        await client.query(
          `INSERT INTO items (uid, source_id, guid, title, summary_html, content_html, summary_text, content_text, categories, language, published_at, updated_at, first_seen_at, content_hash)
           VALUES ('urn:uuid:1', 'wire', 'wire-1', 'Переговоры в Казахстане', '', '', 'Делегации встретились', '', '[]', 'ru', $1, $1, $1, 'h1')`,
          [NOW],
        );
      } finally {
        await client.end();
      }
      const migrated: number[] = [];
      const store = await open({ onMigration: ({ version }) => migrated.push(version) }, { path: 'unused.db', url: fresh.url, pool: 2 });
      expect(migrated).toEqual([4]);
      // Moved as they were, not queued to be computed again.
      expect(await query(`SELECT count(*)::int AS n FROM search_pending`, fresh.url)).toEqual([{ n: 0 }]);
      expect(await query(`SELECT count(*)::int AS n FROM item_search`, fresh.url)).toEqual([{ n: 1 }]);
      expect((await store.items.list({ search: searchFor('переговоры'), limit: 10 })).map((i) => i.guid)).toEqual(['wire-1']);
      expect(await query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'search'`, fresh.url)).toEqual([]);
    } finally {
      for (const store of stores.splice(0)) await store.close();
      await fresh.drop();
    }
  });

  it('tells another store of a commit by notification: it answers the generation from memory until then', async () => {
    const writer = await open();
    const replica = await open({ readOnly: true });
    await vi.waitFor(async () => expect(await replica.generation()).toBeDefined());
    const before = await replica.generation();
    const statements = statementsRun(replica);
    await replica.generation();
    await replica.generation();
    expect(statementsRun(replica)).toBe(statements);
    await writer.write((tx) => tx.sources.sync([{ id: 'notified', url: 'https://notified.example/rss' }]));
    await vi.waitFor(async () => expect((await replica.generation()).feeds).toBeGreaterThan(before.feeds), { timeout: 1_000, interval: 20 });
  });

  it('opens read-only without writing, and waits until a writer has migrated the schema', async () => {
    const fresh = await createTestDatabase();
    try {
      const waits: string[] = [];
      const config = { path: 'unused.db', url: fresh.url, pool: 2 };
      const opening = open({ readOnly: true, onWait: (message) => waits.push(message) }, config);
      await vi.waitFor(() => expect(waits.length).toBeGreaterThan(0), { timeout: 5_000 });
      expect(waits[0]).toMatch(/schema version 0 and this newsloom needs \d+: a read-only store does not migrate/);
      await open({}, config);
      const replica = await opening;
      expect((await replica.health()).schemaCurrent).toBe(true);
      await expect(replica.write((tx) => tx.meta.set('a', 'b'))).rejects.toThrow(/read-only/);
      await expect(replica.meta.set('a', 'b')).rejects.toMatchObject({ code: '25006' });
    } finally {
      for (const store of stores.splice(0)) await store.close();
      await fresh.drop();
    }
  });

  it('never shows the password: not in descriptions, nor when the server cannot be reached', async () => {
    const secret = 'pa55-w0rd-secret';
    const url = `postgres://newsloom:${secret}@127.0.0.1:9/newsloom`;
    expect(describeStorage({ path: 'x', url })).toBe('postgres://newsloom:***@127.0.0.1:9/newsloom');
    // storage.password (or NEWSLOOM_DATABASE_PASSWORD_FILE) goes into the URL connected with, never into one shown.
    expect(connectionUrl({ url: 'postgres://newsloom@db/newsloom', password: 'p@ss:w/rd' })).toBe('postgres://newsloom:p%40ss%3Aw%2Frd@db/newsloom');
    expect(describeStorage({ path: 'x', url: 'postgres://newsloom@db/newsloom', password: secret })).toBe('postgres://newsloom@db/newsloom');
    const waits: string[] = [];
    const failure = await openStore({ path: 'x', url }, { connectTimeoutMs: 1_500, onWait: (message) => waits.push(message) }).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^PostgreSQL at postgres:\/\/newsloom:\*\*\*@127\.0\.0\.1:9\/newsloom cannot be reached: .*ECONNREFUSED/);
    expect(waits[0]).toMatch(/cannot be reached: .*; trying again in 1 s$/);
    for (const message of [(failure as Error).message, ...waits]) expect(message).not.toContain(secret);
  });

  it('refuses a backup, pointing to pg_dump', async () => {
    await expect(backupStore(storage, '/tmp/copy.db')).rejects.toThrow(/use pg_dump, as in pg_dump -Fc/);
  });

  it('calls a lost server a storage problem, and works again once it is back', async () => {
    // The server as the store sees it: a TCP relay to the real one, that the test stops and starts again.
    const target = new URL(database.url);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const server = net.connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, server]) {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as net.AddressInfo).port;
    const url = new URL(database.url);
    url.host = `127.0.0.1:${port}`;
    const store = await open({}, { path: 'unused.db', url: url.toString(), pool: 2 });
    await store.meta.set('before', 'down');
    await new Promise<void>((resolve) => {
      relay.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    const failure = await store.meta.get('before').catch((err: unknown) => err);
    expect(storageProblem(failure)).toMatch(/^the PostgreSQL server cannot be reached \(down or restarting; newsloom reconnects by itself\)/);
    await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
    try {
      expect(await store.meta.get('before')).toBe('down');
    } finally {
      await store.close();
      await new Promise<void>((resolve) => {
        relay.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    }
  });

  it('writes again after its connections were cut: the pool reconnects', async () => {
    const store = await open();
    await store.sources.sync([{ id: 'wire', url: 'https://wire.example/rss' }]);
    await query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    await store.write((tx) => tx.meta.set('after', 'restart'));
    expect(await store.meta.get('after')).toBe('restart');
    expect((await store.sources.get('wire'))?.url).toBe('https://wire.example/rss');
  });

  it('runs a write again, once, when its connection was lost before the commit: nothing of it is stored twice', async () => {
    const store = await open();
    let runs = 0;
    await store.write(async (tx) => {
      runs++;
      await tx.meta.set('first', String(runs));
      // The server goes away in the middle of the first run (a restart, a failover).
      if (runs === 1) await query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`);
      await tx.meta.set('second', String(runs));
    });
    expect(runs).toBe(2);
    expect([await store.meta.get('first'), await store.meta.get('second')]).toEqual(['2', '2']);
  });

  it('reads the change counters by polling when it cannot LISTEN (a hot standby)', async () => {
    const writer = await open();
    const pool = createPool({ url: database.url, pool: 1 });
    const watcher = new ChangeWatcher(
      poolSql(pool, () => {}),
      () => new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:9/nowhere' }),
    );
    try {
      await watcher.listen();
      expect(watcher.isListening).toBe(false);
      const before = await watcher.generation();
      await writer.write((tx) => tx.sources.sync([{ id: `polled-${before.feeds}`, url: 'https://polled.example/rss' }]));
      await vi.waitFor(async () => expect((await watcher.generation()).feeds).toBeGreaterThan(before.feeds), { timeout: 2_000, interval: 50 });
    } finally {
      await watcher.close();
      await pool.end();
    }
  });

  it('runs the daemon on PostgreSQL: newsloom run polls a feed into the database and serves its output', async () => {
    const server = await startFixtureServer();
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    const setup = testConfig('');
    const fresh = await createTestDatabase();
    const configFile = path.join(setup.dir, 'newsloom.yaml');
    const port = await freePort();
    writeFileSync(
      configFile,
      `server: { host: 127.0.0.1, port: ${port} }
retention: { items: 36500d }
sources:
  - { id: tass-en, url: "${server.url}/tass-en.xml", every: 1h }
topics:
  - { id: kazakhstan, any: [Kazakhstan] }
outputs:
  - { id: kz, title: KZ, topics: [kazakhstan] }
`,
    );
    // The URL (and so the engine) comes from the environment, as an operator's container gets it.
    const running = runDaemon(configFile, { NEWSLOOM_DATABASE_URL: fresh.url });
    try {
      await running.waitFor((l) => l.source === 'tass-en' && l.status === 'ok', 'the first poll', 60_000);
      const feed = await fetchAtom(`http://127.0.0.1:${port}/feeds/kz.atom`);
      expect(feed.entries.length).toBeGreaterThan(0);
      expect(feed.entries.map((e) => e.title)).toContain('CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13');
      const [row] = await query<{ n: string }>(`SELECT count(*) AS n FROM items`, fresh.url);
      expect(Number(row!.n)).toBe(10);
      const started = running.lines.find((l) => l.msg.startsWith('newsloom listening'));
      expect(started?.database).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:5432\/newsloom_test_/);
    } finally {
      running.child.kill('SIGTERM');
      await running.exited;
      await server.close();
      setup.cleanup();
      await fresh.drop();
    }
  }, 90_000);
});
