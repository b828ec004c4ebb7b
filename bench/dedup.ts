// Dedup keeps ingestion fast: ingests 100,000 items into a store that already holds 1,000,000, through the code a
// poll runs after parsing (normalize, identity keys, story dedup, tagging, store), 100 items a document like a feed:
// half of them one document per commit, half through the group commit with fetch.concurrency documents waiting. Only
// that is timed: the documents' made-up text is written between the timed parts, and the story index in memory is
// built before (the daemon builds it at start; its time is a figure of its own). The 1,000,000 are written with direct
// batched inserts in one transaction, spread over the 90 days of retention, each with its keys, its story and its story
// print (as if housekeeping had never trimmed the prints: the strict case). One new item in ten is a reworded repost
// of an item another source published up to six hours before; the others are new stories published over the last
// day. The built store is cached in the temp folder (per size, schema and build version), since a million items take
// minutes to write. BENCH_FLOW=steady and BENCH_WAL_PAGES=1 vary it (below); BENCH_EXISTING and BENCH_NEW scale it.
// BENCH_ENGINE=postgres runs it on PostgreSQL (NEWSLOOM_BENCH_DATABASE_URL names the server): the same rows written
// with multi-row inserts into a template database, copied for each run, and the CPU time of the server's backends
// counted beside this process's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { BackgroundThread } from '../src/background.ts';
import { parseConfig } from '../src/config/load.ts';
import { pipelineOn } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { itemUid } from '../src/text/uid.ts';
import { prepareItems, storeItems } from '../src/pipeline/ingest.ts';
import { hash, normalize } from '../src/pipeline/normalize.ts';
import { escapeHtml } from '../src/text/html.ts';
import { storyPrint, type StoryPrint } from '../src/text/stories.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { runIfMain, type BenchResult } from './lib.ts';
import { cachedStore } from './populate.ts';
import { TextMaker } from './support/text-maker.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { backendCpu, copiedDatabase, cpuBetween } from './pg-database.ts';

const EXISTING = Number(process.env.BENCH_EXISTING ?? 1_000_000);
const NEW = Number(process.env.BENCH_NEW ?? 100_000);
/**
 * BENCH_WAL_PAGES=1: no checkpoints during the run, and at its end the pages the commits wrote to the write-ahead log,
 * per new item and per table or index (from the log's frame headers and SQLite's dbstat): what a commit costs, and why.
 */
const WAL_PAGES = process.env.BENCH_WAL_PAGES === '1';
/**
 * BENCH_FLOW=steady: the new items come as a daemon meets them day to day, in publication order, 11,000 a day (what a
 * million items over 90 days make), and a repost retells one of the last 2,000 of them (about four hours before). By
 * default they are a burst (a cold start), published anywhere in the last day, and a repost retells an item stored
 * before the burst: by then up to 100,000 reports have joined the story index's buckets after its original, the worst
 * case for the newest-first reading of crowded buckets.
 */
const STEADY = process.env.BENCH_FLOW === 'steady';
const POSTGRES = (process.env.BENCH_ENGINE ?? 'sqlite') === 'postgres';
const STEADY_PER_DAY = 11_000;
const SOURCES = 50;
const PER_DOCUMENT = 100;
const REPOST_SHARE = 0.1;
const DAY = 86_400_000;
const RETENTION = 90 * DAY;
const NOW = Date.parse('2026-06-01T12:00:00Z');
/** Raise when what existingItems makes or the builds write changes, so that a cached store is built again. */
const BUILD_VERSION = 1;

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-dedup-'));
  const config = parseConfig(
    `sources: [${Array.from({ length: SOURCES }, (_, i) => `{ id: src-${i}, url: "http://127.0.0.1/${i}.xml" }`).join(', ')}]
topics:
  - { id: kazakhstan, any: [Kazakhstan, Astana, "Казахстан*"] }
  - { id: csto, any: [CSTO, ОДКБ] }`,
    'bench.yaml',
    {},
  );
  config.storage.path = path.join(dir, 'newsloom.db');
  if (WAL_PAGES && POSTGRES) throw new Error('BENCH_WAL_PAGES=1 reads the SQLite write-ahead log: not with BENCH_ENGINE=postgres');
  const existing = POSTGRES ? await postgresStore(config) : { buildSeconds: await existingStore(config, config.storage.path), url: undefined, database: undefined, drop: async () => {} };
  if (existing.url) config.storage.url = existing.url;
  // As the daemon opens it: the search index kept by the background thread, on the other core.
  const background = new BackgroundThread();
  const store = await openStore(config.storage, { background });
  if (WAL_PAGES) connectionOf(store).pragma('wal_autocheckpoint = 0');
  /** The server's CPU seconds by backend, when it is PostgreSQL: its share of the work runs in other processes. */
  const serverDatabase = existing.database;
  const serverCpu = serverDatabase === undefined ? undefined : () => backendCpu(serverDatabase);
  try {
    // The vocabulary comes from the seed; the new items' own random stream is another one than the build's.
    const text = new TextMaker(42, 4242);
    const now = NOW;
    // The items of the last day, to repost (the steady flow reposts its own).
    const recent = STEADY ? [] : await recentItems(store, existing.url, now);

    const ctx = await pipelineOn(store, config, silentLogger, () => now);
    const counts = { new: 0, updated: 0, unchanged: 0, merged: 0 };
    let planted = 0;
    /** BENCH_FLOW=steady: the new items so far, to repost. */
    const fresh: Recent[] = [];
    let generated = 0;
    let done = 0;
    /** The next document's raw items (not timed: making up text is not ingesting): PER_DOCUMENT new items of the next source, one in ten a repost. */
    const nextDocument = () => {
      const sourceId = `src-${(generated / PER_DOCUMENT) % SOURCES}`;
      const raws = Array.from({ length: Math.min(PER_DOCUMENT, NEW - generated) }, (_, k) => {
        const n = EXISTING + generated + k;
        if (STEADY) {
          // In publication order, STEADY_PER_DAY a day up to now; a repost retells one of the last 2,000 new items.
          const at = now - Math.floor(((NEW - generated - k) / STEADY_PER_DAY) * DAY);
          const original = fresh.length > 0 && text.random() < REPOST_SHARE ? fresh[fresh.length - 1 - Math.floor(text.random() * Math.min(2_000, fresh.length))] : undefined;
          if (original && original.sourceId !== sourceId) {
            planted++;
            return newsItem(n, text.reword(original.words), at);
          }
          const words = text.words(53);
          fresh.push({ sourceId, words, publishedAt: at });
          return newsItem(n, words, at);
        }
        const original = text.random() < REPOST_SHARE ? recent[Math.floor(text.random() * recent.length)] : undefined;
        if (original && original.sourceId !== sourceId) {
          planted++;
          // A repost follows its original by ten minutes to six hours.
          return newsItem(n, text.reword(original.words), Math.min(now, original.publishedAt + 600_000 + Math.floor(text.random() * 6 * 3_600_000)));
        }
        return newsItem(n, text.words(53), now - Math.floor(text.random() * DAY));
      });
      generated += raws.length;
      return { sourceId, raws };
    };
    /** What a poll does with a parsed document (the daemon normalizes on its background thread; here, on this one). */
    const normalized = ({ sourceId, raws }: ReturnType<typeof nextDocument>) => {
      done += raws.length;
      return raws.map((raw) => normalize(raw, { sourceId, language: 'en', baseUrl: `https://${sourceId}.example/`, now }));
    };
    /**
     * Ingests batches of documents until `until` items are done, timing only the ingesting; the items per second and
     * per CPU-second (both threads: the search index is kept on the other one meanwhile).
     */
    const phase = async (until: number, batch: () => ReturnType<typeof nextDocument>[], ingest: (documents: ReturnType<typeof nextDocument>[]) => Promise<void> | void) => {
      const from = done;
      let seconds = 0;
      let cpuSeconds = 0;
      // Between the timed parts the server idles (the text is made up here), so one reading at each end will do.
      const serverBefore = await serverCpu?.();
      while (done < until) {
        const documents = batch();
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        await ingest(documents);
        const cpu = process.cpuUsage(cpuBefore);
        seconds += (performance.now() - started) / 1000;
        cpuSeconds += (cpu.user + cpu.system) / 1e6;
      }
      const serverSeconds = serverBefore && serverCpu ? cpuBetween(serverBefore, await serverCpu()) : undefined;
      return {
        rate: (done - from) / seconds,
        perCpu: (done - from) / cpuSeconds,
        perServerCpu: serverSeconds === undefined ? undefined : (done - from) / serverSeconds,
        perBothCpu: serverSeconds === undefined ? undefined : (done - from) / (cpuSeconds + serverSeconds),
      };
    };
    /** On PostgreSQL, the rate per CPU-second of the server's backends, and of both. */
    const serverFigures = (result: Awaited<ReturnType<typeof phase>>): BenchResult['figures'] =>
      result.perServerCpu === undefined
        ? []
        : [
            { label: '  per CPU-second of the PostgreSQL backends', value: result.perServerCpu, unit: 'items/s' },
            { label: '  per CPU-second of both', value: result.perBothCpu!, unit: 'items/s' },
          ];
    // The band index is built from the story prints once, before the first poll (the daemon does it at start).
    const loading = performance.now();
    const indexed = await store.stories.load(now, config.dedup.window);
    const loadSeconds = (performance.now() - loading) / 1000;
    // Half the items one document per commit: a poll that finishes alone.
    const alone = await phase(NEW / 2, () => [nextDocument()], async ([document]) => {
      const prepared = await prepareItems(ctx, normalized(document!));
      await store.transaction((tx) => storeItems(tx, ctx, prepared, now, counts));
    });
    // The other half as the daemon stores polls that finish together (a cold start, a burst of due sources): through
    // the group commit, fetch.concurrency documents waiting at once.
    const together = await phase(
      NEW,
      () => Array.from({ length: Math.min(config.fetch.concurrency, Math.ceil((NEW - generated) / PER_DOCUMENT)) }, nextDocument),
      async (documents) => {
        await Promise.all(documents.map(async (document) => {
          const prepared = await prepareItems(ctx, normalized(document));
          return store.write((tx) => storeItems(tx, ctx, prepared, now, counts));
        }));
      },
    );
    // The worker indexes while the items come in; what it has left once the last commit is done.
    const indexing = performance.now();
    await store.search.settled();
    const lag = (performance.now() - indexing) / 1000;
    const n = (value: number) => value.toLocaleString('en-US');
    return {
      name: `dedup: ingest ${n(NEW)} items into a store of ${n(EXISTING)}${STEADY ? ', a steady flow' : ''}, on ${POSTGRES ? 'PostgreSQL' : 'SQLite'}`,
      figures: [
        { label: `ingest rate, one ${PER_DOCUMENT}-item document per commit`, value: alone.rate, unit: 'items/s', target: '> 5,000', ok: alone.rate > 5_000 },
        { label: '  the same, per CPU-second of this process (user + system)', value: alone.perCpu, unit: 'items/s' },
        ...serverFigures(alone),
        {
          label: `ingest rate, ${config.fetch.concurrency} documents per group commit`,
          value: together.rate,
          unit: 'items/s',
          target: '> 5,000',
          ok: together.rate > 5_000,
        },
        { label: '  the same, per CPU-second of this process (user + system)', value: together.perCpu, unit: 'items/s' },
        ...serverFigures(together),
        { label: 'search index caught up, after the last commit', value: lag, unit: 's' },
        { label: 'new items that joined a story', value: counts.merged, unit: `of ${n(planted)} reposts planted` },
        { label: `story index built at start, ${n(indexed)} recent reports of ${n(EXISTING)} prints`, value: loadSeconds, unit: 's' },
        ...(existing.buildSeconds === undefined ? [] : [{ label: `building the ${n(EXISTING)}-item store (direct inserts)`, value: existing.buildSeconds, unit: 's' }]),
        ...(WAL_PAGES ? walPages(store, `${config.storage.path}-wal`) : []),
      ],
    };
  } finally {
    await store.close();
    await background.close();
    await existing.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pages in the write-ahead log (nothing checkpointed since the store was opened), per new item, by table or index. */
function walPages(store: Store, walFile: string): BenchResult['figures'] {
  const wal = readFileSync(walFile);
  const PAGE = connectionOf(store).pragma('page_size', { simple: true }) as number;
  const frames = new Map<number, number>();
  // After the 32-byte header, each frame is a 24-byte header (its page number first) and the page.
  for (let at = 32; at + 24 + PAGE <= wal.length; at += 24 + PAGE) frames.set(wal.readUInt32BE(at), (frames.get(wal.readUInt32BE(at)) ?? 0) + 1);
  const owner = new Map<number, string>();
  for (const { name, pageno } of connectionOf(store).prepare<[], { name: string; pageno: number }>(`SELECT name, pageno FROM dbstat('main')`).all()) owner.set(pageno, name);
  const byName = new Map<string, number>();
  for (const [page, count] of frames) byName.set(owner.get(page) ?? '(free)', (byName.get(owner.get(page) ?? '(free)') ?? 0) + count);
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  return [
    { label: 'WAL pages written, per new item', value: total / NEW, unit: 'pages' },
    ...[...byName]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, count]) => ({ label: `  of them ${name}`, value: count / NEW, unit: 'pages' })),
  ];
}

interface Recent {
  sourceId: string;
  words: string[];
  publishedAt: number;
}

/** Copies the store of EXISTING items to `file`, building and caching it first if needed; the build's seconds when it was built. */
function existingStore(config: ReturnType<typeof parseConfig>, file: string): Promise<number | undefined> {
  return cachedStore(`dedup-${EXISTING}-b${BUILD_VERSION}`, file, async (store) => {
    await store.sources.sync(config.sources);
    buildExisting(store, new TextMaker(42, 42), NOW);
    // The build went through the write-ahead log in one transaction; fold it in now, as housekeeping would.
    await store.optimize();
  });
}

/** The items of the last day before `now`, with their words, to repost. */
async function recentItems(store: Store, url: string | undefined, now: number): Promise<Recent[]> {
  const query = `SELECT source_id, title, summary_text, published_at FROM items WHERE published_at > ${now - DAY} ORDER BY id`;
  type Row = { source_id: string; title: string; summary_text: string; published_at: number | string };
  let rows: Row[];
  if (url) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    rows = (await client.query<Row>(query).finally(() => client.end())).rows;
  } else rows = connectionOf(store).prepare<[], Row>(query).all();
  // node-postgres gives bigint columns as strings.
  return rows.map((r) => ({ sourceId: r.source_id, words: `${r.title} ${r.summary_text}`.split(' '), publishedAt: Number(r.published_at) }));
}

/** One of the EXISTING items, with what the store keeps of it. */
interface ExistingItem {
  id: number;
  sourceId: string;
  uid: string;
  url: string;
  title: string;
  summary: string;
  summaryHtml: string;
  publishedAt: number;
  hash: string;
  /** Whether the item is tagged kazakhstan (it has the word), as the tagger would tag it. */
  kazakhstan: boolean;
  print: StoryPrint;
}

/** The EXISTING items, spread over the retention period up to `now`, oldest first: what both engines' builds write. */
function* existingItems(text: TextMaker, now: number): Generator<ExistingItem> {
  for (let n = 0; n < EXISTING; n++) {
    const sourceId = `src-${n % SOURCES}`;
    const words = text.words(53);
    const raw = newsItem(n, words, now - RETENTION + Math.floor((n / EXISTING) * RETENTION));
    const summary = words.slice(8).join(' ');
    yield {
      id: n + 1,
      sourceId,
      uid: itemUid(sourceId, `guid:${raw.url}`),
      url: raw.url,
      title: raw.title,
      summary,
      summaryHtml: `<p>${escapeHtml(summary)}</p>`,
      publishedAt: Date.parse(raw.published),
      hash: hash([raw.title, summary]),
      kazakhstan: words.includes('Kazakhstan'),
      print: storyPrint({ title: raw.title, summaryText: summary, contentText: '' }),
    };
  }
}

const printBlob = (print: StoryPrint) => Buffer.from(print.words.buffer, print.words.byteOffset, print.words.byteLength);

/** Writes EXISTING items straight into the tables, in one transaction. */
function buildExisting(store: Store, text: TextMaker, now: number): void {
  const db = connectionOf(store);
  const insertItem = db.prepare(
    `INSERT INTO items (id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
       categories, language, published_at, updated_at, first_seen_at, content_hash)
     VALUES (@id, @uid, @sourceId, @url, @url, @url, @title, @summaryHtml, '', @summary, '', '[]', 'en', @publishedAt, @publishedAt, @publishedAt, @hash)`,
  );
  const insertKey = db.prepare(`INSERT INTO item_keys (source_id, key, item_id, seen_at) VALUES (?, ?, ?, ?)`);
  const insertTopic = db.prepare(`INSERT INTO item_topics (item_id, topic_id, published_at, matches) VALUES (?, 'kazakhstan', ?, '[]')`);
  const insertStory = db.prepare(`INSERT INTO stories (id, uid) VALUES (?, ?)`);
  const insertStoryItem = db.prepare(`INSERT INTO story_items (item_id, story_id, source_id, published_at) VALUES (?, ?, ?, ?)`);
  const insertPrint = db.prepare(`INSERT INTO story_prints (published_at, item_id, words) VALUES (?, ?, ?)`);
  db.transaction(() => {
    for (const item of existingItems(text, now)) {
      const { id, sourceId, url, publishedAt } = item;
      insertItem.run({ id, uid: item.uid, sourceId, url, title: item.title, summaryHtml: item.summaryHtml, summary: item.summary, publishedAt, hash: item.hash });
      insertKey.run(sourceId, `guid:${url}`, id, publishedAt);
      insertKey.run(sourceId, `url:${url.slice('https://'.length)}`, id, publishedAt);
      if (item.kazakhstan) insertTopic.run(id, publishedAt);
      insertStory.run(id, item.uid);
      insertStoryItem.run(id, id, sourceId, publishedAt);
      insertPrint.run(publishedAt, id, printBlob(item.print));
    }
  })();
}

/** The database of EXISTING items on PostgreSQL: a copy of the template, built first if needed (store/postgres/migrations.ts). */
async function postgresStore(config: ReturnType<typeof parseConfig>) {
  const database = await copiedDatabase(`dedup_${EXISTING}_b${BUILD_VERSION}`, async (store, client) => {
    await store.sources.sync(config.sources);
    await buildExistingOnPostgres(client, new TextMaker(42, 42), NOW);
  });
  return { ...database, database: database.name };
}

/** PG_BATCH items a transaction: each table's rows of the batch in one multi-row insert. */
const PG_BATCH = 5_000;

/**
 * Writes EXISTING items straight into the tables, the rows the engine's items, fingerprints and stories stores write for
 * them (a story each and its print, numbered in the order filed as store/postgres/stories.ts reads them), the next
 * batch made up while the server writes the last.
 */
async function buildExistingOnPostgres(client: pg.Client, text: TextMaker, now: number): Promise<void> {
  const items = existingItems(text, now);
  let writing: Promise<unknown> = Promise.resolve();
  for (let from = 0; from < EXISTING; from += PG_BATCH) {
    const batch: ExistingItem[] = [];
    for (let k = 0; k < PG_BATCH; k++) {
      const next = items.next();
      if (next.done) break;
      batch.push(next.value);
    }
    await writing;
    writing = writeBatch(client, batch);
  }
  await writing;
  await client.query(`SELECT setval(pg_get_serial_sequence('items', 'id'), ${EXISTING}), setval(pg_get_serial_sequence('stories', 'id'), ${EXISTING})`);
}

async function writeBatch(client: pg.Client, batch: ExistingItem[]): Promise<void> {
  const ids = batch.map((i) => i.id);
  const sources = batch.map((i) => i.sourceId);
  const published = batch.map((i) => i.publishedAt);
  const tagged = batch.filter((i) => i.kazakhstan);
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO items (id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
       categories, language, published_at, updated_at, first_seen_at, content_hash)
     SELECT id, uid, source_id, url, url, url, title, summary_html, '', summary_text, '', '[]', 'en', published_at, published_at, published_at, content_hash
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
       AS t(id, uid, source_id, url, title, summary_html, summary_text, published_at, content_hash)`,
    [ids, batch.map((i) => i.uid), sources, batch.map((i) => i.url), batch.map((i) => i.title), batch.map((i) => i.summaryHtml), batch.map((i) => i.summary), published, batch.map((i) => i.hash)],
  );
  await client.query(`INSERT INTO item_keys (source_id, key, item_id, seen_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])`, [
    batch.flatMap((i) => [i.sourceId, i.sourceId]),
    batch.flatMap((i) => [`guid:${i.url}`, `url:${i.url.slice('https://'.length)}`]),
    batch.flatMap((i) => [i.id, i.id]),
    batch.flatMap((i) => [i.publishedAt, i.publishedAt]),
  ]);
  await client.query(`INSERT INTO item_topics (item_id, topic_id, published_at, matches) SELECT id, 'kazakhstan', published_at, '[]' FROM unnest($1::bigint[], $2::bigint[]) AS t(id, published_at)`, [
    tagged.map((i) => i.id),
    tagged.map((i) => i.publishedAt),
  ]);
  await client.query(`INSERT INTO stories (id, uid) SELECT * FROM unnest($1::bigint[], $2::text[])`, [ids, batch.map((i) => i.uid)]);
  await client.query(`INSERT INTO story_items (item_id, story_id, source_id, published_at) SELECT id, id, source_id, published_at FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS t(id, source_id, published_at)`, [
    ids,
    sources,
    published,
  ]);
  await client.query(`INSERT INTO story_prints (item_id, published_at, words, seq) SELECT *, nextval('story_print_seq') FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`, [
    ids,
    published,
    batch.map((i) => printBlob(i.print)),
  ]);
  await client.query('COMMIT');
}

function newsItem(n: number, words: string[], publishedAt: number) {
  const url = `https://site-${n % SOURCES}.example/news/${n}`;
  return { guid: url, url, title: words.slice(0, 8).join(' '), summary: words.slice(8).join(' '), published: new Date(publishedAt).toISOString() };
}

await runIfMain(import.meta.url, run);
