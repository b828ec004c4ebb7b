// End-to-end ingestion: items per second from HTTP fetch to committed, tagged rows, beside the
// ceiling of parsing the same feeds (parseFeed) and nothing else.
import { openPipeline } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { pollOnce } from '../src/scheduler/scheduler.ts';
import { parseFeed } from '../src/sources/feed.ts';
import { startFeedServer } from './feed-server.ts';
import { runIfMain, type BenchResult } from './lib.ts';
import { benchConfig } from './setup.ts';

const FEEDS = 400;
const ITEMS = 50;

export async function run(): Promise<BenchResult> {
  const server = await startFeedServer({ feeds: FEEDS, itemsPerFeed: ITEMS, hosts: 40 });
  const { config, cleanup } = benchConfig(server.urls);
  const ctx = await openPipeline(config, silentLogger);
  try {
    const texts = await Promise.all(server.urls.map(async (url) => (await fetch(url)).text()));
    let started = performance.now();
    let parsed = 0;
    for (const text of texts) parsed += parseFeed(text).items.length;
    const parseOnly = parsed / ((performance.now() - started) / 1000);

    started = performance.now();
    const results = await pollOnce(config.sources, (source) => pollSource(ctx, source));
    const seconds = (performance.now() - started) / 1000;
    const stored = results.reduce((sum, r) => sum + r.new, 0);
    const failed = results.filter((r) => r.status === 'error');
    if (failed.length) throw new Error(`${failed.length} polls failed, first: ${failed[0]!.error?.message}`);
    const rate = stored / seconds;
    return {
      name: 'ingest',
      figures: [
        { label: `end-to-end ingestion, ${FEEDS} feeds × ${ITEMS} items`, value: rate, unit: 'items/s', yardstick: { label: 'parseFeed only', value: parseOnly, unit: 'items/s' } },
        { label: 'ingestion as a share of parse-only', value: (rate / parseOnly) * 100, unit: '%' },
      ],
    };
  } finally {
    await ctx.store.close();
    await server.stop();
    cleanup();
  }
}

await runIfMain(import.meta.url, run);
