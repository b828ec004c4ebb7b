// Full-text search over 1,000,000 stored items (half English, half Russian wire text, bench/synthetic.ts): the
// search index built from scratch (seconds, file size), then p50/p99 latency of one page of /search results for
// one-word, two-word and phrase queries, as the server runs them (URL parameters → store query → items).
// Run: node bench/search.ts   (ITEMS=100000 ROUNDS=50 for a quicker, smaller run)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config/load.ts';
import { itemUid } from '../src/text/uid.ts';
import { SEARCH } from '../src/publish/feeds.ts';
import { parseFeedParams } from '../src/publish/params.ts';
import { SearchIndexWriter, searchFile } from '../src/store/sqlite/search-index.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { runIfMain, type BenchResult, type Figure } from './lib.ts';
import { cachedStore } from './populate.ts';
import { syntheticItem } from './synthetic.ts';

const ITEMS = Number(process.env.ITEMS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 200);
const FEEDS = 20;

// Words of the synthetic vocabularies, as a reader types them (dictionary forms, where the text has other forms).
const QUERIES = {
  'one word': ['Kazakhstan', 'pipeline', 'Казахстан', 'переговоры', 'Астана', 'refugees'],
  'two words': ['Kazakhstan pipeline', 'nuclear plant', 'Казахстан граница', 'санкции банк', 'Tokayev summit', 'выборы президент'],
  phrase: ['"nuclear plant"', '"exchange rate"', '"железная дорога"', '"атомная станция"', '"gold mining"', '"курс валюта"'],
};

export function run(): Promise<BenchResult> {
  return measureAll();
}

async function measureAll(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-search-'));
  const file = path.join(dir, 'newsloom.db');
  try {
    const built = await cachedStore(`search-${ITEMS}-b1`, file, fillItems);
    if (built !== undefined) process.stderr.write(`  populated ${ITEMS.toLocaleString('en-US')} items in ${built.toFixed(0)} s\n`);
    // The index of this checkout's code, built from the items as after an upgrade or a lost index file.
    rmSync(searchFile(file), { force: true });
    const store = await openStore({ path: file });
    const db = connectionOf(store);
    try {
      const started = performance.now();
      new SearchIndexWriter(db).catchUp();
      const buildSeconds = (performance.now() - started) / 1000;
      db.pragma('search.wal_checkpoint(TRUNCATE)');
      const megabytes = statSync(searchFile(file)).size / 2 ** 20;
      const config = parseConfig(`sources: [{ id: wire, url: "http://127.0.0.1/feed" }]`, 'bench.yaml', {});
      const figures: Figure[] = [
        { label: `index build, ${ITEMS.toLocaleString('en-US')} items`, value: buildSeconds, unit: 's' },
        { label: 'index file size', value: megabytes, unit: 'MiB' },
      ];
      for (const [kind, queries] of Object.entries(QUERIES)) {
        const { times, found } = await measure(store, config, queries);
        figures.push({ label: `${kind}: p50`, value: percentile(times, 0.5), unit: 'ms' });
        figures.push({ label: `${kind}: p99`, value: percentile(times, 0.99), unit: 'ms' });
        figures.push({ label: `${kind}: queries that found nothing`, value: found.filter((n) => n === 0).length, unit: `of ${queries.length}` });
      }
      return { name: `search over ${ITEMS.toLocaleString('en-US')} items (a page of 50 results)`, figures };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds of each search, ROUNDS times over the queries in turn (after one round that counts what each finds). */
async function measure(store: Store, config: ReturnType<typeof parseConfig>, queries: string[]): Promise<{ times: number[]; found: number[] }> {
  const request = (q: string) => {
    const parsed = parseFeedParams(config, SEARCH, new URLSearchParams({ q }));
    if (!parsed.ok) throw new Error(`${q}: ${parsed.message}`);
    return parsed.request.query;
  };
  const found: number[] = [];
  for (const q of queries) found.push((await store.items.list(request(q))).length);
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const q = queries[round % queries.length]!;
    const started = performance.now();
    await store.items.list(request(q));
    times.push(performance.now() - started);
  }
  return { times, found };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** ITEMS synthetic wire items of FEEDS sources (odd ones Russian), newest last, written straight into the tables. */
function fillItems(store: Store): Promise<void> {
  const db = connectionOf(store);
  db.prepare(`INSERT INTO sources (id, url) VALUES ('wire', 'http://127.0.0.1/feed')`).run();
  const insert = db.prepare(
    `INSERT INTO items (id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
       categories, language, published_at, updated_at, first_seen_at, content_hash)
     VALUES (?, ?, 'wire', ?, ?, ?, ?, '', '', ?, '', '[]', ?, ?, ?, ?, ?)`,
  );
  db.pragma('synchronous = OFF');
  const perFeed = Math.ceil(ITEMS / FEEDS);
  const batch = db.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) {
      const feed = n % FEEDS;
      const item = syntheticItem(feed, perFeed - Math.floor(n / FEEDS));
      const published = Date.parse(item.pubDate);
      insert.run(n + 1, itemUid('wire', `guid:${item.guid}`), item.guid, item.guid, item.guid, item.title, item.description, feed % 2 ? 'ru' : 'en', published, published, published, `h${n}`);
    }
  });
  for (let from = 0; from < ITEMS; from += 50_000) batch(from, Math.min(ITEMS, from + 50_000));
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return Promise.resolve();
}

await runIfMain(import.meta.url, run);
