// PostgreSQL databases for benchmarks: a large store is built once into a template database (named by what it holds,
// the build's version and the engine's schema version) and each run works on a fresh copy of it, since a million items
// take minutes to write. Also the CPU time of the server's backends serving one database, read from /proc.
//   NEWSLOOM_BENCH_DATABASE_URL: the server, as a URL to one of its databases (default postgres://postgres@127.0.0.1:5432/postgres)
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { latestVersion } from '../src/store/postgres/migrations.ts';
import { itemWords } from '../src/store/postgres/search.ts';
import { openPostgresStore } from '../src/store/postgres/store.ts';
import type { Store } from '../src/store/store.ts';

const SERVER_URL = process.env.NEWSLOOM_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the bench's server. */
export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** Seconds the template took to build, when this run built it. */
  buildSeconds: number | undefined;
  drop(): Promise<void>;
}

/**
 * A fresh database copied from the template `newsloom_bench_<name>_v<schema version>`, built first when there is none:
 * `build` gets the store opened on it (migrated, for what is simplest through the store: sources, meta) and a connection
 * of its own for bulk inserts. The template is vacuumed and analysed once built, as autovacuum would leave it.
 */
export async function copiedDatabase(name: string, build: (store: Store, client: pg.Client) => Promise<void>): Promise<BenchDatabase> {
  const template = `newsloom_bench_${name}_v${latestVersion()}`;
  const copy = `${template}_run${process.pid}`;
  let buildSeconds: number | undefined;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [template]);
    if (exists.rowCount === 0) {
      const started = performance.now();
      const building = `${template}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${building}`);
      const store = await openPostgresStore({ url: databaseUrl(building), pool: 2 });
      const client = new pg.Client({ connectionString: databaseUrl(building) });
      await client.connect();
      try {
        // A bench database needs no durability while it is built.
        await client.query(`SET synchronous_commit = off`);
        await client.query(`SET maintenance_work_mem = '256MB'`);
        await withoutIndexes(client, async () => {
          await build(store, client);
          // The items' search words, as the writers' indexer would leave them once it has caught up (search-indexer.ts).
          await client.query(
            `INSERT INTO item_search (item_id, search) SELECT i.id, ${itemWords('i')} FROM items i ON CONFLICT DO NOTHING`,
          );
          await client.query(`TRUNCATE search_pending`);
        });
        await client.query(`VACUUM ANALYZE`);
      } finally {
        await client.end();
        await store.close();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      buildSeconds = (performance.now() - started) / 1000;
    }
    // FILE_COPY: the files copied after a checkpoint, not every page written again through the WAL (the default).
    await admin.query(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${copy} TEMPLATE ${template} STRATEGY = FILE_COPY`);
  } finally {
    await admin.end();
  }
  return {
    name: copy,
    url: databaseUrl(copy),
    buildSeconds,
    drop: async () => {
      const client = new pg.Client({ connectionString: SERVER_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Runs `fn` with the schema's secondary indexes and foreign keys dropped, then puts them back as they were (from the
 * catalog's own definitions): built in one pass and checked in one join each, instead of a row at a time.
 */
async function withoutIndexes(client: pg.Client, fn: () => Promise<void>): Promise<void> {
  const { rows: keys } = await client.query<{ table: string; name: string; definition: string }>(
    `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
  );
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
     WHERE schemaname = 'public' AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))`,
  );
  for (const key of keys) await client.query(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}`);
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  await fn();
  for (const index of indexes) await client.query(index.definition);
  for (const key of keys) await client.query(`ALTER TABLE ${key.table} ADD CONSTRAINT ${key.name} ${key.definition}`);
}

/** Linux counts a process's CPU time in /proc in units of USER_HZ, 100 a second on every architecture Node runs on. */
const USER_HZ = 100;

/**
 * The CPU seconds the server's backends connected to `database` have used so far, by process id (the backends run on
 * this machine). A backend that exits takes its time with it: the pool's connections must outlive what is measured.
 */
export async function backendCpu(database: string): Promise<Map<number, number>> {
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [database]);
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        // The fields after the command's name (which may hold spaces, hence from the last parenthesis): utime and stime are the 12th and 13th.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / USER_HZ);
      } catch {
        // exited meanwhile
      }
    }
    return cpu;
  } finally {
    await admin.end();
  }
}

/** The backends' CPU seconds between two readings of backendCpu (a backend started meanwhile counts from zero). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, now] of after) seconds += now - (before.get(pid) ?? 0);
  return seconds;
}
