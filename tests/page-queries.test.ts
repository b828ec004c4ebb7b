// A feed page costs a few statements, whatever its size: the items, their stories' facts and related reports, and
// the sources they show are each read for the whole page at once, never once per entry.
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementsRun } from '../src/store/postgres/store.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import type { Store, StorageConfig } from '../src/store/store.ts';
import { fetchAtom } from './helpers/atom.ts';
import { createTestDatabase, ENGINES, type Engine } from './helpers/engines.ts';
import { startPublishing, type Publishing } from './helpers/publish.ts';

const SOURCES = ['wire', 'daily', 'weekly'];
const STORIES = 70;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const MAX_STATEMENTS = 6;

const CONFIG = `
sources:
${SOURCES.map((id) => `  - { id: ${id}, title: "${id} news", url: "http://127.0.0.1:9/${id}.xml" }`).join('\n')}
topics:
  - { id: energy, any: [energy] }
  - { id: steppe, any: [steppe] }
  - { id: quiet, any: [nothing-matches-this] }
outputs:
  - { id: both, title: Energy and steppe, topics: [energy, steppe, quiet] }
  - { id: every, title: Every report, every_item: true }
`;

/** Counts the statements the store runs while `fn` runs: on PostgreSQL through the engine's debug hook. */
async function countStatements(engine: Engine, store: Store, fn: () => Promise<void>): Promise<number> {
  if (engine === 'postgres') {
    const before = statementsRun(store);
    await fn();
    return statementsRun(store) - before;
  }
  return countSqliteStatements(fn);
}

/** Counts every statement the process runs on any better-sqlite3 connection while `fn` runs (prepared ones included). */
async function countSqliteStatements(fn: () => Promise<void>): Promise<number> {
  const statement = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
  const originals = Object.fromEntries((['run', 'get', 'all', 'iterate'] as const).map((name) => [name, statement[name]!]));
  const database = Database.prototype as { exec: (this: Database.Database, source: string) => Database.Database };
  const exec = database.exec;
  let count = 0;
  for (const [name, original] of Object.entries(originals)) {
    statement[name] = function (this: unknown, ...args: unknown[]) {
      count++;
      return original.apply(this, args);
    };
  }
  database.exec = function (source) {
    count++;
    return exec.call(this, source);
  };
  try {
    await fn();
    return count;
  } finally {
    Object.assign(statement, originals);
    database.exec = exec;
  }
}

describe.each(ENGINES)('the statements of a feed page (%s)', (engine) => {
  let publishing: Publishing;
  let database: { url: string; drop: () => Promise<void> } | undefined;

  // Storing 220 reports one transaction at a time takes a while on PostgreSQL when the machine is busy.
  beforeAll(async () => {
    let storage: StorageConfig | undefined;
    if (engine === 'postgres') {
      database = await createTestDatabase();
      storage = { path: 'unused.db', url: database.url, pool: 4 };
    }
    publishing = await startPublishing(CONFIG, storage);
    const { store } = publishing.daemon.context;
    const client = database && new pg.Client({ connectionString: database.url });
    await client?.connect();
    /** The story a committed report was filed under. */
    const storyOf = async (itemId: number): Promise<number> => {
      if (!client) return connectionOf(store).prepare<[number], number>(`SELECT story_id FROM story_items WHERE item_id = ?`).pluck().get(itemId)!;
      return (await client.query<{ story_id: string }>(`SELECT story_id FROM story_items WHERE item_id = $1`, [itemId])).rows.map((r) => Number(r.story_id))[0]!;
    };
    // Seventy stories, each told by all three sources an hour apart (the wire first), and ten items told once.
    for (let n = 0; n < STORIES; n++) {
      let storyId: number | undefined;
      for (const [k, sourceId] of SOURCES.entries()) {
        const publishedAt = START + n * DAY + k * 3_600_000;
        const title = `Story ${n} on energy across the steppe, as ${sourceId} tells it`;
        const itemId = await publishing.add({ title, sourceId, url: `https://${sourceId}.example/${n}`, publishedAt, contentText: `energy ${n}` }, ['energy', 'steppe'], publishedAt);
        await store.transaction(async (tx) => {
          const uid = (await tx.items.get(itemId))!.uid;
          await tx.stories.add({ itemId, uid, sourceId, publishedAt, print: { words: new Uint32Array(0), bands: [] }, storyId }, publishedAt, DAY);
        });
        storyId ??= await storyOf(itemId);
      }
    }
    await store.transaction(async (tx) => {
      for (let n = 0; n < 10; n++) {
        const publishedAt = START + (STORIES + n) * DAY;
        const itemId = await publishing.add({ title: `Single report ${n} on energy`, sourceId: 'daily', publishedAt }, ['energy'], publishedAt);
        const uid = (await tx.items.get(itemId))!.uid;
        await tx.stories.add({ itemId, uid, sourceId: 'daily', publishedAt, print: { words: new Uint32Array(0), bands: [] }, storyId: undefined }, publishedAt, DAY);
      }
    });
    await client?.end();
    await store.search.settled();
  }, 120_000);

  afterAll(async () => {
    await publishing.stop();
    await database?.drop();
  });

  const pages = [
    ['an output of several topics', '/feeds/both.atom'],
    ['an output of every report', '/feeds/every.atom'],
    ['a topic', '/topics/energy.atom'],
    ['a source', '/sources/wire.atom'],
    ['a search, best first', '/search.atom?q=energy'],
    ['a search, newest first', '/search.atom?q=energy&sort=date'],
    ['a search in a topic, a page further on by date', `/search.atom?q=energy&topic=steppe&sort=date&cursor=${(START + 60 * DAY).toString(36)}.${(1e9).toString(36)}`],
    ['a long page', '/topics/steppe.atom?limit=200'],
  ] as const;

  it.each(pages)(`renders %s in at most ${MAX_STATEMENTS} statements`, async (_label, path) => {
    let entries = 0;
    let related = 0;
    const statements = await countStatements(engine, publishing.daemon.context.store, async () => {
      const feed = await fetchAtom(`${publishing.url}${path}`);
      entries = feed.entries.length;
      related = feed.entries.filter((e) => e.content.includes('Also reported by')).length;
    });
    expect(entries).toBeGreaterThanOrEqual(50);
    if (!path.includes('every') && !path.includes('sources')) expect(related).toBeGreaterThan(entries / 2);
    expect(statements).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  it(`renders a ranked search's next page in at most ${MAX_STATEMENTS} statements`, async () => {
    // A ranked search pages by score: its next link carries the last entry's score.
    const first = await fetchAtom(`${publishing.url}/search.atom?q=energy&limit=20`);
    const next = /<link rel="next"[^>]* href="([^"]+)"/.exec(first.body)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toMatch(/cursor=s/);
    let entries: string[] = [];
    const statements = await countStatements(engine, publishing.daemon.context.store, async () => {
      entries = (await fetchAtom(next!.replace(/^https?:\/\/[^/]+/, publishing.url))).entries.map((e) => e.id);
    });
    expect(entries).toHaveLength(20);
    expect(entries.filter((id) => first.entries.some((e) => e.id === id))).toEqual([]);
    expect(statements).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  it('reads the sources a page shows once per generation of the feeds, and again after a source changed', async () => {
    const { store } = publishing.daemon.context;
    const getMany = store.sources.getMany.bind(store.sources);
    const asked: string[][] = [];
    store.sources.getMany = (ids) => (asked.push(ids), getMany(ids));
    try {
      // Pages of their own (limits no other test asks for): each renders.
      await fetchAtom(`${publishing.url}/topics/energy.atom?limit=51`);
      const before = asked.length;
      await fetchAtom(`${publishing.url}/topics/steppe.atom?limit=52`);
      await fetchAtom(`${publishing.url}/feeds/every.atom?limit=53`);
      expect(asked.length).toBe(before);
      expect(before).toBeLessThanOrEqual(1);
      // A source's site changes: the next page reads the sources again, and shows it.
      await store.write((tx) => tx.sources.recordSuccess('wire', Date.now(), { etag: null, lastModified: null, siteUrl: 'https://wire.example/moved-site' }));
      const feed = await fetchAtom(`${publishing.url}/topics/energy.atom?limit=54`);
      expect(asked.length).toBe(before + 1);
      expect(feed.body).toContain('https://wire.example/moved-site');
    } finally {
      store.sources.getMany = getMany;
    }
  });

  it('shows each story once, by its first-published report, with the others as related reports', async () => {
    const feed = await fetchAtom(`${publishing.url}/feeds/both.atom?limit=100`);
    const stories = feed.entries.filter((e) => e.title.startsWith('Story '));
    expect(stories).toHaveLength(STORIES);
    for (const entry of stories) {
      expect(entry.title).toMatch(/as wire tells it$/);
      expect(entry.content).toMatch(/Also reported by: <a href="https:\/\/daily\.example\/\d+">daily news<\/a>, <a href="https:\/\/weekly\.example\/\d+">weekly news<\/a>/);
    }
    // A source's feed has no earlier report of another source to defer to: every one of its reports leads there.
    const weekly = await fetchAtom(`${publishing.url}/sources/weekly.atom?limit=100`);
    expect(weekly.entries).toHaveLength(STORIES);
  });
});
