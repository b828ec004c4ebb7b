// The store engines the store-level tests run on: SQLite always, PostgreSQL when NEWSLOOM_TEST_DATABASE_URL names a
// server to make test databases on (a base URL such as postgres://postgres@127.0.0.1:5432/postgres). Each test file
// gets a database of its own (created before its tests, dropped after them), emptied before each test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { openStore, type StorageConfig, type Store, type StoreOptions } from '../../src/store/store.ts';

export type Engine = 'sqlite' | 'postgres';

/** Where PostgreSQL test databases are made, if anywhere. */
export const TEST_DATABASE_URL = process.env.NEWSLOOM_TEST_DATABASE_URL || undefined;

export const SKIPPED_MESSAGE = 'PostgreSQL suite skipped: set NEWSLOOM_TEST_DATABASE_URL=postgres://user@host:5432/db to run it';

export const ENGINES: Engine[] = TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** The URL of another database on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs fn with a connection to the test server's base database (to create and drop databases). */
export async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let databases = 0;

/** A database of its own for this test file, made now; dropped (with whatever still connects to it) by the returned function. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const file = path.basename(expect.getState().testPath ?? 'tests', '.test.ts').replace(/[^a-z0-9]+/gi, '_').toLowerCase();
  const name = `newsloom_test_${file}_${process.pid}_${databases++}`;
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  return { name, url: databaseUrl(name), drop: () => onServer(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))) };
}

/** Empties every table of a test database (its schema stays), so that each test starts from a fresh store. */
async function emptyDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tables: string | null }>(
      `SELECT string_agg(quote_ident(tablename), ', ') AS tables FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('schema_migrations', 'generation')`,
    );
    if (rows[0]?.tables) await client.query(`TRUNCATE ${rows[0].tables} RESTART IDENTITY CASCADE`);
    await client.query(`UPDATE generation SET feeds = 0, health = 0`).catch(() => {});
  } finally {
    await client.end();
  }
}

export interface EngineUse {
  /** The storage config of this test's fresh store (the same for every store a test opens). */
  storage(): StorageConfig;
  /** Opens a store on it, closed after the test. */
  open(options?: StoreOptions): Promise<Store>;
}

/** Hooks for a describe block run on one engine: a fresh store's storage before each test, and every store closed after. */
export function useEngine(engine: Engine): EngineUse {
  let storage: StorageConfig | undefined;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let dir: string | undefined;
  const stores: Store[] = [];
  beforeAll(async () => {
    if (engine === 'postgres') database = await createTestDatabase();
  });
  beforeEach(async () => {
    if (engine === 'postgres') {
      await emptyDatabase(database!.url);
      storage = { path: 'unused.db', url: database!.url, pool: 4 };
    } else {
      dir = mkdtempSync(path.join(tmpdir(), 'newsloom-engine-'));
      storage = { path: path.join(dir, 'newsloom.db') };
    }
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    storage: () => storage!,
    open: async (options = {}) => {
      const store = await openStore(storage!, options);
      stores.push(store);
      return store;
    },
  };
}
