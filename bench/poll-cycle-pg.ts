// The poll cycle on PostgreSQL with 1, 2 and 3 pollers, beside SQLite: 1,000 feeds of 50 items from 250 loopback
// hosts with 50 ms latency (bench/feed-server.ts, as bench/poll-cycle.ts), each run a fresh database and real
// `newsloom run` processes (--role poller on PostgreSQL, the default role on SQLite), timed from their start until
// every item is stored. CPU is the whole machine's (/proc/stat), since the database server works too; items/s is
// 50,000 over the wall time. NEWSLOOM_BENCH_DATABASE_URL (or NEWSLOOM_TEST_DATABASE_URL) names the server, default
// postgres://postgres@127.0.0.1:5432/postgres. Run: node bench/poll-cycle-pg.ts   (BENCH_POLLERS=1,3 to choose)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startFeedServer } from './feed-server.ts';
import { fmt, freePort, runIfMain, type BenchResult, type Figure } from './lib.ts';
import { BENCH_TOPICS } from './setup.ts';

const FEEDS = 1_000;
const HOSTS = 250;
const ITEMS = 50;
const LATENCY_MS = 50;
const CLI = path.join(import.meta.dirname, '../src/cli.ts');
const BASE = process.env.NEWSLOOM_BENCH_DATABASE_URL ?? process.env.NEWSLOOM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const POLLERS = (process.env.BENCH_POLLERS ?? '1,2,3').split(',').map(Number);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function psql(url: string, sql: string): string {
  return execFileSync('psql', [url, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function withDatabase(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** CPU seconds the whole machine has spent (every core, user + system), from /proc/stat. */
function machineCpuSeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq] = fields.map(Number);
  return (user! + nice! + system! + irq! + softirq!) / 100;
}

interface CycleResult {
  wall: number;
  cpu: number;
  items: number;
  /** Seconds from the last item stored until `searchable` held (the search words written), if asked. */
  searchLag: number | undefined;
}

async function cycle(
  dir: string,
  urls: string[],
  storage: string,
  processes: number,
  role: 'all' | 'poller',
  count: () => number | Promise<number>,
  searchable?: () => Promise<boolean>,
): Promise<CycleResult> {
  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  const sources = urls.map((url, i) => `  - { id: feed-${i}, url: "${url}", every: 1h }`).join('\n');
  try {
    const started = performance.now();
    const cpu = machineCpuSeconds();
    for (let n = 0; n < processes; n++) {
      const port = await freePort();
      const file = path.join(dir, `newsloom-${port}.yaml`);
      writeFileSync(
        file,
        `server: { host: 127.0.0.1, port: ${port} }
${storage}
log: { level: warn }
fetch: { concurrency: 16, per_host: 2, host_gap: 500ms }
sources:
${sources}
${BENCH_TOPICS}`,
      );
      const child = spawn(process.execPath, [CLI, 'run', '--config', file, ...(role === 'poller' ? ['--role', 'poller'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
      stderr[n] = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr[n] += chunk.toString()));
      children.push(child);
    }
    const expected = FEEDS * ITEMS;
    let items = 0;
    while ((items = await count()) < expected) {
      const dead = children.findIndex((child) => child.exitCode !== null);
      if (dead >= 0) throw new Error(`a newsloom process exited: ${stderr[dead]}`);
      if (performance.now() - started > 600_000) throw new Error(`only ${items} of ${expected} items after 10 minutes`);
      await sleep(100);
    }
    const wall = (performance.now() - started) / 1000;
    const cpuSpent = machineCpuSeconds() - cpu;
    let searchLag: number | undefined;
    if (searchable) {
      while (!(await searchable())) await sleep(50);
      searchLag = (performance.now() - started) / 1000 - wall;
    }
    return { wall, cpu: cpuSpent, items, searchLag };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))));
  }
}

export async function run(): Promise<BenchResult> {
  const server = await startFeedServer({ feeds: FEEDS, itemsPerFeed: ITEMS, hosts: HOSTS, latencyMs: LATENCY_MS });
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-pg-'));
  const figures: Figure[] = [];
  try {
    const file = path.join(dir, 'newsloom.db');
    const sqlite = await cycle(dir, server.urls, `storage: { path: ${JSON.stringify(file)} }`, 1, 'all', () => {
      try {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0; // not created or not migrated yet
      }
    });
    figures.push(
      { label: 'SQLite, one daemon: cold cycle', value: sqlite.wall, unit: 's' },
      { label: '  machine CPU time', value: sqlite.cpu, unit: 's' },
      { label: '  items/s', value: sqlite.items / sqlite.wall, unit: 'items/s' },
    );
    for (const pollers of POLLERS) {
      const name = `newsloom_bench_cycle_${process.pid}_${pollers}`;
      psql(BASE, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      psql(BASE, `CREATE DATABASE ${name}`);
      const url = withDatabase(BASE, name);
      try {
        // Counted on one connection of the bench's own: a psql process started every 100 ms cost the machine seconds of CPU.
        let counter: pg.Client | undefined;
        const result = await cycle(dir, server.urls, `storage: { url: "${url}"${process.env.BENCH_POOL ? `, pool: ${process.env.BENCH_POOL}` : ""} }`, pollers, 'poller', async () => {
          try {
            if (!counter) {
              const client = new pg.Client({ connectionString: url });
              await client.connect();
              counter = client;
            }
            return Number((await counter.query<{ n: string }>('SELECT count(*) AS n FROM items')).rows[0]!.n);
          } catch {
            return 0; // not migrated yet
          }
        }, async () => {
          // The search words written after the polls' commits (store/postgres/search-indexer.ts): the queue empty.
          try {
            return Number((await counter!.query<{ n: string }>('SELECT count(*) AS n FROM search_pending')).rows[0]!.n) === 0;
          } catch {
            return true; // a schema before migration 4: the words were written with the items
          }
        }).finally(() => counter?.end());
        const rate = result.items / result.wall;
        figures.push(
          { label: `PostgreSQL, ${pollers} poller${pollers > 1 ? 's' : ''}: cold cycle`, value: result.wall, unit: 's' },
          { label: '  machine CPU time', value: result.cpu, unit: 's' },
          {
            label: '  items/s',
            value: rate,
            unit: 'items/s',
            ...(pollers === 1 ? { target: `≥ ${fmt(sqlite.items / sqlite.wall / 2)} (half of SQLite's)`, ok: rate >= sqlite.items / sqlite.wall / 2 } : {}),
          },
          { label: '  search words all written, after the last item', value: result.searchLag ?? 0, unit: 's' },
        );
      } finally {
        psql(BASE, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
    return { name: `poll cycle on PostgreSQL: ${FEEDS} feeds × ${ITEMS} items, ${HOSTS} hosts, ${LATENCY_MS} ms latency, real processes`, figures };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
