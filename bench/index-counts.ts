// The index page's entry counts over a large store: how long ItemStore.countEntries takes for each shape of
// output (every item, one topic, topics with an exclusion, a topic from some sources), beside count(*) over
// the same items, the count the index page made before (of reports, not stories, and at every render).
// Run: node bench/index-counts.ts   (ITEMS=100000 for a smaller store)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fmt } from './lib.ts';
import { populatedStore } from './populate.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { openStore } from '../src/store/store.ts';

const ITEMS = Number(process.env.ITEMS ?? 1_000_000);
const ROUNDS = 3;

const SHAPES: [name: string, query: { topics?: string[]; notTopics?: string[]; sources?: string[] }, before: string][] = [
  ['every item', {}, `SELECT count(*) FROM items i`],
  ['one topic', { topics: ['t1'] }, `SELECT count(*) FROM items i WHERE i.id IN (SELECT item_id FROM item_topics WHERE topic_id IN ('t1'))`],
  [
    'two topics, one excluded',
    { topics: ['t1', 't2'], notTopics: ['t3'] },
    `SELECT count(*) FROM items i WHERE i.id IN (SELECT item_id FROM item_topics WHERE topic_id IN ('t1', 't2'))
       AND NOT EXISTS (SELECT 1 FROM item_topics WHERE item_id = i.id AND topic_id IN ('t3'))`,
  ],
  ['one topic, two sources', { topics: ['t1'], sources: ['s1', 's2'] }, `SELECT count(*) FROM items i WHERE i.id IN (SELECT item_id FROM item_topics WHERE topic_id IN ('t1')) AND i.source_id IN ('s1', 's2')`],
];

async function best(fn: () => unknown): Promise<number> {
  await fn();
  let fastest = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await fn();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-counts-'));
try {
  const file = path.join(dir, 'newsloom.db');
  await populatedStore(file, ITEMS);
  const store = await openStore({ path: file });
  const db = connectionOf(store);
  console.log(`${fmt(ITEMS)} items; best of ${ROUNDS} after one warm-up, ms`);
  console.log('| output | countEntries | count(*) of reports (before) |');
  console.log('| --- | --- | --- |');
  for (const [name, query, before] of SHAPES) {
    const after = await best(() => store.items.countEntries(query));
    const yardstick = await best(() => db.prepare(before).pluck().get());
    console.log(`| ${name} | ${after.toFixed(0)} | ${yardstick.toFixed(0)} |`);
  }
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
