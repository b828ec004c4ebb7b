// A store with many items for benchmarks, built through the real store API in large transactions and
// cached in the temp folder (keyed by size and schema version), since building 1,000,000 items takes a while.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config/load.ts';

import { pipelineOn } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { storeItems } from '../src/pipeline/ingest.ts';
import { normalize } from '../src/pipeline/normalize.ts';
import { migrations } from '../src/store/migrations.ts';
import { openStore } from '../src/store/store.ts';
import { BENCH_TOPICS } from './setup.ts';
import { syntheticItem } from './synthetic.ts';

export const POPULATED_FEEDS = 100;

/** Copies a store holding `count` synthetic items (from feeds wire-0 … wire-99) to `file`. */
export function populatedStore(file: string, count: number): void {
  const version = migrations.at(-1)!.version;
  const cacheDir = path.join(tmpdir(), 'newsloom-bench-cache');
  const cached = path.join(cacheDir, `store-${count}-v${version}.db`);
  if (!existsSync(cached)) {
    mkdirSync(cacheDir, { recursive: true });
    const building = `${cached}.building`;
    rmSync(building, { force: true });
    build(building, count);
    renameSync(building, cached);
  }
  copyFileSync(cached, file);
}

function build(file: string, count: number): void {
  const started = performance.now();
  const store = openStore(file);
  const config = parseConfig(BENCH_TOPICS, 'bench.yaml', {});
  config.sources = Array.from({ length: POPULATED_FEEDS }, (_, i) => ({ ...parseConfig(`sources: [{ id: wire-${i}, url: "http://127.0.0.1/feed/${i}.xml" }]`, 'bench.yaml', {}).sources[0]! }));
  const ctx = pipelineOn(store, config, silentLogger, () => now);
  const counts = { new: 0, updated: 0, unchanged: 0, merged: 0 };
  const perFeed = Math.ceil(count / POPULATED_FEEDS);
  const now = Date.UTC(2026, 10, 1);
  const batch = 20_000;
  for (let done = 0; done < count; done += batch) {
    store.transaction(() => {
      for (let n = done; n < Math.min(done + batch, count); n++) {
        const feed = n % POPULATED_FEEDS;
        const index = perFeed - Math.floor(n / POPULATED_FEEDS);
        const raw = syntheticItem(feed, index, now);
        const item = normalize(
          { guid: raw.guid, url: raw.guid, title: raw.title, summary: raw.description, categories: raw.categories, published: raw.pubDate },
          { sourceId: `wire-${feed}`, language: null, baseUrl: raw.guid, now },
        );
        storeItems(ctx, [item], now, counts);
      }
    });
    if (done % 200_000 === 0) process.stderr.write(`  populating: ${done.toLocaleString('en-US')} / ${count.toLocaleString('en-US')} items\n`);
  }
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  process.stderr.write(`  populated ${count.toLocaleString('en-US')} items in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
