// A large store for benchmarks: items written straight into the tables in large transactions (every
// trigger still runs: full-text index, generation counters), built once per size and schema version and
// cached in the temp folder, since a million items take a minute or two to write.
//   sources s0…s9 (POPULATED_SOURCES), topics t0…t9 (POPULATED_TOPICS): item i is from s(i % 10) and
//   tagged t(i % 10), its title says word(i % 10), so the config below re-derives the same tags.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config/load.ts';
import { itemUid } from '../src/text/uid.ts';
import { TOPICS_HASH_KEY } from '../src/pipeline/retag.ts';
import { compileTopics } from '../src/pipeline/tagger.ts';
import { migrations } from '../src/store/sqlite/migrations.ts';
import { INDEX_FORMAT, SearchIndexWriter, searchFile } from '../src/store/sqlite/search-index.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';

export const POPULATED_SOURCES = 10;
export const POPULATED_TOPICS = 10;

const PARAGRAPH =
  'The talks covered energy supplies, transport corridors across the steppe and the security of the region’s borders. ' +
  'Officials said a joint statement would follow, and that working groups would meet again before the end of the month.';

/** The sources and topics of a populated store, as config YAML (sources point at `feedBase`; `polled: false` disables them). */
export function populatedConfigYaml(feedBase: string, { polled = true } = {}): string {
  return `sources:
${Array.from({ length: POPULATED_SOURCES }, (_, i) => `  - { id: s${i}, title: Source ${i}, url: "${feedBase}/s${i}.xml"${polled ? '' : ', enabled: false'} }`).join('\n')}
topics:
${Array.from({ length: POPULATED_TOPICS }, (_, i) => `  - { id: t${i}, title: Topic ${i}, any: [word${i}] }`).join('\n')}
`;
}

/** Copies a store holding `count` items to `file` (building and caching it first if needed). */
export async function populatedStore(file: string, count: number): Promise<void> {
  const seconds = await cachedStore(`store-${count}`, file, (store) => fillItems(store, count));
  if (seconds !== undefined) process.stderr.write(`  populated ${count.toLocaleString('en-US')} items in ${seconds.toFixed(0)} s\n`);
}

/**
 * Copies the store cached as `name` (per schema version and search index layout, in the temp folder) to `file`, building it with `build` first
 * when there is none; the seconds the build took, when it ran.
 */
export async function cachedStore(name: string, file: string, build: (store: Store) => Promise<void>): Promise<number | undefined> {
  const cacheDir = path.join(tmpdir(), 'newsloom-bench-cache');
  const cached = path.join(cacheDir, `${name}-v${migrations.at(-1)!.version}-s${INDEX_FORMAT}.db`);
  let seconds: number | undefined;
  if (!existsSync(cached)) {
    mkdirSync(cacheDir, { recursive: true });
    const building = `${cached}.building`;
    rmSync(building, { force: true });
    rmSync(searchFile(building), { force: true });
    const started = performance.now();
    const store = await openStore({ path: building });
    await build(store);
    // The search index up to date, as the daemon keeps it, and the queue that fed it trimmed.
    new SearchIndexWriter(connectionOf(store)).catchUp();
    await store.optimize();
    await store.close();
    renameSync(building, cached);
    renameSync(searchFile(building), searchFile(cached));
    seconds = (performance.now() - started) / 1000;
  }
  copyFileSync(cached, file);
  copyFileSync(searchFile(cached), searchFile(file));
  return seconds;
}

/** Item `i` (from 0) of a populated store: what both engines' builds write. */
export function populatedItem(i: number) {
  const id = i + 1;
  const sourceId = `s${i % POPULATED_SOURCES}`;
  const summary = `Round ${id} of the talks on word${i % POPULATED_TOPICS} opened on Monday.`;
  return {
    id,
    sourceId,
    uid: itemUid(sourceId, `guid:${id}`),
    guid: `guid-${id}`,
    url: `https://source${i % POPULATED_SOURCES}.example/news/${id}`,
    title: `Delegations meet for talks on word${i % POPULATED_TOPICS}, round ${id}`,
    summaryHtml: `<p>${summary}</p>`,
    contentHtml: `<p>${summary}</p><p>${PARAGRAPH}</p><p>${PARAGRAPH}</p><p>${PARAGRAPH}</p>`,
    summaryText: summary,
    contentText: `${summary} ${PARAGRAPH}`,
    publishedAt: Date.UTC(2025, 0, 1) + i * 30_000,
    contentHash: `h${id}`,
    topic: `t${i % POPULATED_TOPICS}`,
  };
}

async function fillItems(store: Store, n: number): Promise<void> {
  const db = connectionOf(store);
  const config = parseConfig(populatedConfigYaml('http://127.0.0.1'), 'bench.yaml', {});
  await store.sources.sync(config.sources);
  const insertItem = db.prepare(
    `INSERT INTO items (id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
       author, categories, image, language, published_at, updated_at, first_seen_at, content_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '[]', NULL, 'en', ?, ?, ?, ?)`,
  );
  const insertTopic = db.prepare(`INSERT INTO item_topics (item_id, topic_id, published_at, matches) VALUES (?, ?, ?, '[]')`);
  // A bench database needs no durability while it is built.
  db.pragma('synchronous = OFF');
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const item = populatedItem(i);
      const published = item.publishedAt;
      insertItem.run(item.id, item.uid, item.sourceId, item.guid, item.url, item.url, item.title, item.summaryHtml, item.contentHtml, item.summaryText,
        item.contentText, published, published, published, item.contentHash);
      insertTopic.run(item.id, item.topic, published);
    }
  });
  for (let from = 0; from < n; from += 50_000) batch(from, Math.min(n, from + 50_000));
  // The tags were written for these topics: a daemon started on this config has nothing to re-tag.
  await store.meta.set(TOPICS_HASH_KEY, compileTopics(config.topics).hash);
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_checkpoint(TRUNCATE)');
}
