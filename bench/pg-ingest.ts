// One poller's end-to-end ingestion on each engine: 400 feeds × 50 items from the local feed server, fetched, parsed,
// deduplicated, tagged and committed (as bench/ingest.ts), into SQLite and into a fresh PostgreSQL database. The
// issue's target: PostgreSQL at 50 % of SQLite's rate or more.
//   node bench/pg-ingest.ts [postgres://postgres@127.0.0.1:5432/postgres]
import pg from 'pg';
import { closePipeline, openPipeline } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { pollOnce } from '../src/scheduler/scheduler.ts';
import { startFeedServer } from './feed-server.ts';
import { benchConfig } from './setup.ts';

const FEEDS = Number(process.env.FEEDS ?? 400);
const ITEMS = 50;
const base = process.argv[2] ?? process.env.NEWSLOOM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function measure(engine: 'sqlite' | 'postgres'): Promise<number> {
  const server = await startFeedServer({ feeds: FEEDS, itemsPerFeed: ITEMS, hosts: 40 });
  const { config, cleanup } = benchConfig(server.urls);
  const database = `newsloom_bench_${process.pid}`;
  if (engine === 'postgres') {
    await onServer(`CREATE DATABASE ${database}`);
    const url = new URL(base);
    url.pathname = `/${database}`;
    config.storage = { ...config.storage, url: url.toString() };
  }
  const ctx = await openPipeline(config, silentLogger);
  try {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const results = await pollOnce(config.sources, (source) => pollSource(ctx, source));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const failed = results.filter((r) => r.status === 'error');
    if (failed.length) throw new Error(`${failed.length} polls failed, first: ${failed[0]!.error?.message}`);
    const stored = results.reduce((sum, r) => sum + r.new, 0);
    console.log(
      `${engine.padEnd(8)} ${stored} items in ${seconds.toFixed(2)} s: ${(stored / seconds).toFixed(0)} items/s, ` +
        `process CPU ${((used.user + used.system) / 1e6).toFixed(2)} s`,
    );
    return stored / seconds;
  } finally {
    await closePipeline(ctx);
    await server.stop();
    cleanup();
    if (engine === 'postgres') await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

const sqlite = await measure('sqlite');
const postgres = await measure('postgres');
console.log(`PostgreSQL at ${((postgres / sqlite) * 100).toFixed(0)} % of SQLite's rate`);
