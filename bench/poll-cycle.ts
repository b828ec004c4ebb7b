// One poll cycle over 1,000 feeds of 50 items, served with 50 ms latency from 250 loopback addresses
// (4 feeds per host, so the per-host limit and gap apply as on the real web), through the real
// pipeline and store: a cold cycle (everything new), a warm one (every feed answers 304), peak RSS.
// The feed server (bench/feed-server.ts) runs in a child process so it does not share our event loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.ts';
import type { SourceConfig } from '../src/config/schema.ts';
import { closePipeline, openPipeline } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PollResult } from '../src/pipeline/ingest.ts';
import { pollOnce } from '../src/scheduler/scheduler.ts';
import { startFeedServer } from './feed-server.ts';
import { runIfMain, type BenchResult } from './lib.ts';

const FEEDS = 1_000;
const HOSTS = 250;
const ITEMS = 50;
const LATENCY_MS = 50;

export async function run(): Promise<BenchResult> {
  const server = await startFeedServer({ feeds: FEEDS, itemsPerFeed: ITEMS, hosts: HOSTS, latencyMs: LATENCY_MS });
  const { urls } = server;
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-'));
  try {
    // The default config's topics and fetch settings, so tagging and politeness cost what they cost.
    const config = loadConfig(fileURLToPath(new URL('../config/newsloom.yaml', import.meta.url)), {});
    config.storage.path = path.join(dir, 'newsloom.db');
    config.sources = urls.map(
      (url, i): SourceConfig => ({ id: `feed-${i}`, url, kind: 'feed', every: { kind: 'interval', ms: 15 * 60_000 }, enabled: true, headers: {}, timezone: 'UTC' }),
    );
    // As the daemon opens it: feeds prepared and the search index kept on worker threads.
    const ctx = await openPipeline(config, silentLogger, Date.now, { workers: true });
    const rssBefore = process.memoryUsage().rss / 1024 / 1024;
    /** Wall time and CPU time (user + system) of one cycle, in seconds. */
    const cycle = async (expected: PollResult['status']) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      const results = await pollOnce(config.sources, (source) => pollSource(ctx, source));
      const { user, system } = process.cpuUsage(cpu);
      const busy = performance.eventLoopUtilization(loop).utilization;
      const wall = performance.now() - started;
      const wrong = results.filter((r) => r.status !== expected);
      if (wrong.length > 0) throw new Error(`${wrong.length} polls were not ${expected}: ${JSON.stringify(wrong[0])}`);
      return { wall: wall / 1000, cpu: (user + system) / 1e6, busy: busy * 100 };
    };
    const cold = await cycle('ok');
    const indexing = performance.now();
    await ctx.store.search.settled();
    const lag = (performance.now() - indexing) / 1000;
    if (await ctx.store.items.count() !== FEEDS * ITEMS) throw new Error(`stored ${await ctx.store.items.count()} items, not ${FEEDS * ITEMS}`);
    const warm = await cycle('not-modified');
    const peakRss = (process.resourceUsage().maxRSS * 1024) / 1024 / 1024;
    await closePipeline(ctx);
    const { concurrency, per_host: perHost, host_gap: gap } = config.fetch;
    const floor = { label: `${FEEDS} × ${LATENCY_MS} ms at ${concurrency} at once`, value: (FEEDS * LATENCY_MS) / concurrency / 1000, unit: 's' };
    return {
      name: `poll cycle: ${FEEDS} feeds × ${ITEMS} items, ${HOSTS} hosts, ${LATENCY_MS} ms latency (concurrency ${concurrency}, ${perHost} per host, ${gap} ms gap)`,
      figures: [
        { label: 'cold cycle (all new)', value: cold.wall, unit: 's', target: '< 10 s', ok: cold.wall < 10, yardstick: floor },
        // CPU time tells the pipeline's own cost apart from other processes competing for the cores.
        { label: 'cold cycle, CPU time (user + system)', value: cold.cpu, unit: 's' },
        // Near 100 %: the cycle is bound by our own work (or by waiting for a core), not by politeness or latency.
        { label: 'cold cycle, event loop busy', value: cold.busy, unit: '%' },
        { label: 'search index caught up, after the cold cycle', value: lag, unit: 's' },
        { label: 'warm cycle (all 304)', value: warm.wall, unit: 's', target: '< 5 s', ok: warm.wall < 5, yardstick: floor },
        { label: 'warm cycle, CPU time (user + system)', value: warm.cpu, unit: 's' },
        { label: 'peak RSS', value: peakRss, unit: 'MB', target: '< 300 MB', ok: peakRss < 300, yardstick: { label: 'RSS before the cycles', value: rssBefore, unit: 'MB' } },
      ],
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
